-- A timetable import finds the series it made for a row by the row's slot (decision 028): importing
-- the same file again updates that series instead of making another. Null for POST /series.
ALTER TABLE "series" ADD COLUMN "import_key" varchar(100);--> statement-breakpoint
CREATE UNIQUE INDEX "series_import_key_idx" ON "series" USING btree ("import_key");
-- The lookalike key of each user name (src/lib/names.ts), unique. The key needs the Unicode
-- confusables table, which SQL does not have, so existing rows are filled in at start by
-- backfillNameKeys (src/db/name-keys.ts) under the migration lock; until then they are null, and
-- null never conflicts. A row whose key an older account already holds keeps null (and a warning).
ALTER TABLE "users" ADD COLUMN "name_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "users_name_key_idx" ON "users" USING btree ("name_key");

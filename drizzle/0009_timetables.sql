CREATE TYPE "public"."closure_kind" AS ENUM('holiday', 'maintenance', 'exam', 'other');--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'create_series';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'update_series';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'cancel_series';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'create_closure';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'update_closure';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'delete_closure';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'create_term';--> statement-breakpoint
CREATE TABLE "closures" (
	"id" serial PRIMARY KEY NOT NULL,
	"all_rooms" boolean DEFAULT false NOT NULL,
	"room_ids" integer[],
	"kind" "closure_kind" NOT NULL,
	"reason" varchar(300) NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"uid" varchar(300),
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "closures_uid_key" UNIQUE("uid"),
	CONSTRAINT "closures_time_order" CHECK ("closures"."start_time" < "closures"."end_time"),
	CONSTRAINT "closures_rooms" CHECK ("closures"."all_rooms" or "closures"."room_ids" is not null)
);
--> statement-breakpoint
CREATE TABLE "series" (
	"id" serial PRIMARY KEY NOT NULL,
	"room_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"title" varchar(200),
	"rrule" text NOT NULL,
	"time_zone" text NOT NULL,
	"first_start" timestamp with time zone NOT NULL,
	"first_end" timestamp with time zone NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"until_term_id" integer,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "series_time_order" CHECK ("series"."first_start" < "series"."first_end")
);
--> statement-breakpoint
CREATE TABLE "terms" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"starts_on" date NOT NULL,
	"ends_on" date NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "terms_name_key" UNIQUE("name"),
	CONSTRAINT "terms_date_order" CHECK ("terms"."starts_on" <= "terms"."ends_on")
);
--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "series_id" integer;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "title" varchar(200);--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "series_exception" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "series_require_check_in" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "series" ADD CONSTRAINT "series_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "series" ADD CONSTRAINT "series_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "series" ADD CONSTRAINT "series_until_term_id_terms_id_fk" FOREIGN KEY ("until_term_id") REFERENCES "public"."terms"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "closures_end_idx" ON "closures" USING btree ("end_time");--> statement-breakpoint
CREATE INDEX "series_user_idx" ON "series" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reservations_series_idx" ON "reservations" USING btree ("series_id","start_time");--> statement-breakpoint
-- Timetables (issue 15). A closure changes the status of the rooms it covers: tell the live
-- streams (decision 008) about each of them, as the room and reservation triggers do.
CREATE OR REPLACE FUNCTION qrbook_notify_closure_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed closures;
BEGIN
  FOREACH changed IN ARRAY (CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW] WHEN 'DELETE' THEN ARRAY[OLD] ELSE ARRAY[OLD, NEW] END) LOOP
    PERFORM pg_notify('qrbook_room_events', r.id::text)
      FROM rooms r WHERE changed.all_rooms OR r.id = ANY(changed.room_ids);
  END LOOP;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER closures_notify_change AFTER INSERT OR UPDATE OR DELETE ON "closures"
  FOR EACH ROW EXECUTE FUNCTION qrbook_notify_closure_change();--> statement-breakpoint
CREATE INDEX "closures_range_idx" ON "closures" USING gist (tstzrange("start_time", "end_time", '[)'));

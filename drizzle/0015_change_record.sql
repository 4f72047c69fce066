CREATE SEQUENCE "public"."changes_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "changes" (
	"position" bigint PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"actor_id" integer,
	"room_ids" integer[] DEFAULT '{}' NOT NULL,
	"all_rooms" boolean DEFAULT false NOT NULL,
	"user_ids" integer[] DEFAULT '{}' NOT NULL,
	"description" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "changes_at_idx" ON "changes" USING btree ("at","position");--> statement-breakpoint
-- The audit rows so far become the first changes, in the order they were written; the audit
-- kinds become the event names the API reports (src/core/audit/vocabulary.ts).
INSERT INTO "changes" ("position", "event", "actor_id", "room_ids", "user_ids", "description", "data", "at")
SELECT row_number() OVER (ORDER BY a."created_at", a."id"),
  CASE a."action"::text
    WHEN 'create_reservation' THEN 'reservation.created'
    WHEN 'cancel_reservation' THEN CASE WHEN a."payload"->>'reason' = 'bumped' THEN 'reservation.bumped' ELSE 'reservation.cancelled' END
    WHEN 'auto_release' THEN 'reservation.released'
    WHEN 'update_reservation' THEN 'reservation.updated'
    WHEN 'check_in' THEN 'reservation.checked_in'
    WHEN 'check_out' THEN 'reservation.checked_out'
    WHEN 'create_room' THEN 'room.created'
    WHEN 'update_room' THEN 'room.updated'
    WHEN 'block_room' THEN CASE WHEN coalesce(a."payload"->>'is_blocked', 'true') = 'false' THEN 'room.unblocked' ELSE 'room.blocked' END
    WHEN 'generate_qr' THEN 'room.qr_regenerated'
    WHEN 'create_user' THEN 'user.created'
    WHEN 'signup' THEN 'user.signed_up'
    WHEN 'update_user' THEN 'user.updated'
    WHEN 'reset_password' THEN 'user.password_reset'
    WHEN 'change_password' THEN 'user.password_changed'
    WHEN 'login' THEN 'user.logged_in'
    WHEN 'logout' THEN 'user.logged_out'
    WHEN 'create_series' THEN 'series.created'
    WHEN 'update_series' THEN 'series.updated'
    WHEN 'cancel_series' THEN 'series.cancelled'
    WHEN 'create_closure' THEN 'closure.created'
    WHEN 'update_closure' THEN 'closure.updated'
    WHEN 'delete_closure' THEN 'closure.deleted'
    WHEN 'create_term' THEN 'term.created'
    WHEN 'approve_reservation' THEN 'reservation.approved'
    WHEN 'reject_reservation' THEN 'reservation.rejected'
    WHEN 'create_policy' THEN 'policy.created'
    WHEN 'update_policy' THEN 'policy.updated'
    WHEN 'delete_policy' THEN 'policy.deleted'
    WHEN 'lift_suspension' THEN 'user.suspension_lifted'
    ELSE a."action"::text
  END,
  a."actor_id",
  CASE WHEN jsonb_typeof(a."payload"->'room_id') = 'number' THEN ARRAY[(a."payload"->>'room_id')::integer]
       WHEN jsonb_typeof(a."payload"->'room_ids') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(a."payload"->'room_ids')::integer)
       ELSE '{}'::integer[] END,
  CASE WHEN jsonb_typeof(a."payload"->'user_id') = 'number' THEN ARRAY[(a."payload"->>'user_id')::integer] ELSE '{}'::integer[] END,
  a."description", a."payload", a."created_at"
FROM "audit_logs" a;--> statement-breakpoint
SELECT setval('changes_position_seq', coalesce((SELECT max("position") FROM "changes"), 1), (SELECT count(*) > 0 FROM "changes"));--> statement-breakpoint
-- The live feed of every instance follows the record: one NOTIFY per change, `position:rooms`
-- (`*` for every room, or when the list would not fit a notification). These replace the
-- per-table triggers of 0004, 0009 and 0013.
CREATE OR REPLACE FUNCTION qrbook_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE rooms text := CASE WHEN NEW.all_rooms THEN '*' ELSE array_to_string(NEW.room_ids, ',') END;
BEGIN
  IF length(rooms) > 7000 THEN rooms := '*'; END IF;
  PERFORM pg_notify('qrbook_room_events', NEW.position::text || ':' || rooms);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER changes_notify AFTER INSERT ON "changes" FOR EACH ROW EXECUTE FUNCTION qrbook_notify_change();--> statement-breakpoint
DROP TRIGGER IF EXISTS rooms_notify_change ON "rooms";--> statement-breakpoint
DROP TRIGGER IF EXISTS reservations_notify_change ON "reservations";--> statement-breakpoint
DROP TRIGGER IF EXISTS closures_notify_change ON "closures";--> statement-breakpoint
DROP TRIGGER IF EXISTS users_notify_rename ON "users";--> statement-breakpoint
DROP FUNCTION IF EXISTS qrbook_notify_room_change();--> statement-breakpoint
DROP FUNCTION IF EXISTS qrbook_notify_closure_change();--> statement-breakpoint
DROP FUNCTION IF EXISTS qrbook_notify_user_rename();

CREATE TYPE "public"."booking_approval" AS ENUM('pending', 'approved', 'rejected');--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'create_policy';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'update_policy';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'delete_policy';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'approve_reservation';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'reject_reservation';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'lift_suspension';--> statement-breakpoint
CREATE TABLE "booking_policies" (
	"id" serial PRIMARY KEY NOT NULL,
	"role" "user_role" NOT NULL,
	"room_type" "room_type",
	"room_id" integer,
	"max_duration_min" integer,
	"min_notice_min" integer,
	"max_advance_days" integer,
	"max_active" integer,
	"max_minutes_per_week" integer,
	"slot_granularity_min" integer,
	"requires_approval" boolean DEFAULT false NOT NULL,
	"note" varchar(200),
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "booking_policies_limits" CHECK ("booking_policies"."max_duration_min" > 0 and "booking_policies"."min_notice_min" >= 0 and "booking_policies"."max_advance_days" > 0
    and "booking_policies"."max_active" >= 0 and "booking_policies"."max_minutes_per_week" >= 0 and "booking_policies"."slot_granularity_min" between 1 and 1440)
);
--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "approval" "booking_approval";--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "no_shows_cleared_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "booking_policies" ADD CONSTRAINT "booking_policies_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reservations_pending_idx" ON "reservations" USING btree ("start_time") WHERE "reservations"."approval" = 'pending' and "reservations"."status" = 'active';
ALTER TYPE "public"."audit_action" ADD VALUE 'check_in';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'check_out';--> statement-breakpoint
ALTER TYPE "public"."audit_action" ADD VALUE 'auto_release';--> statement-breakpoint
ALTER TYPE "public"."reservation_status" ADD VALUE 'released';--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "check_in_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "checked_in_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "qr_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "requires_check_in" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "check_in_opens_min" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "auto_release_after_min" integer DEFAULT 15 NOT NULL;--> statement-breakpoint
CREATE INDEX "reservations_active_end_idx" ON "reservations" USING btree ("end_time") WHERE "reservations"."status" = 'active';--> statement-breakpoint
CREATE INDEX "reservations_awaiting_check_in_idx" ON "reservations" USING btree ("start_time") WHERE "reservations"."status" = 'active' and "reservations"."check_in_required" and "reservations"."checked_in_at" is null;--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_check_in_opens_range" CHECK ("rooms"."check_in_opens_min" between 0 and 1440);--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_auto_release_range" CHECK ("rooms"."auto_release_after_min" between 1 and 1440);
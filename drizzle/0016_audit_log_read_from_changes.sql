DROP TABLE "audit_logs" CASCADE;--> statement-breakpoint
DROP TYPE "public"."audit_action";
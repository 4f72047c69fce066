CREATE TYPE "public"."check_in_proof" AS ENUM('display', 'poster', 'none');--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "check_in_proof" "check_in_proof" DEFAULT 'poster' NOT NULL;
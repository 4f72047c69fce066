-- Overlap safety: two active reservations of one room can never cover the same instant.
-- Half-open ranges '[)' let back-to-back bookings touch; only 'active' rows take part, so a
-- cancelled or finished reservation never blocks a slot. A violation raises SQLSTATE 23P01,
-- which the API answers with 409. btree_gist lets the gist index handle the integer room_id.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_no_overlap"
  EXCLUDE USING gist ("room_id" WITH =, tstzrange("start_time", "end_time", '[)') WITH &&)
  WHERE ("status" = 'active');

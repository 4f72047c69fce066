-- Live room events: every change to a room or to one of its reservations NOTIFYs the channel
-- qrbook_room_events with the room id, from whichever instance or script made it. Notifications
-- are delivered at commit (none for a rolled-back change) and PostgreSQL folds duplicates within a
-- transaction, so a bulk change sends each room id once. src/modules/events/bus.ts listens.
CREATE OR REPLACE FUNCTION qrbook_notify_room_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'rooms' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('qrbook_room_events', OLD.id::text);
    ELSE
      PERFORM pg_notify('qrbook_room_events', NEW.id::text);
    END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('qrbook_room_events', OLD.room_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('qrbook_room_events', NEW.room_id::text);
    END IF;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER rooms_notify_change AFTER INSERT OR UPDATE OR DELETE ON "rooms"
  FOR EACH ROW EXECUTE FUNCTION qrbook_notify_room_change();--> statement-breakpoint
CREATE TRIGGER reservations_notify_change AFTER INSERT OR UPDATE OR DELETE ON "reservations"
  FOR EACH ROW EXECUTE FUNCTION qrbook_notify_room_change();

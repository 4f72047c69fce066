-- Cached room views (issue 17) show user names (current and next booking, schedules). A rename
-- changes every room's view at once: NOTIFY '*' on the room events channel, so every instance drops
-- its cached views (and the live bus recomputes every room). Delivered at commit, like the others.
CREATE OR REPLACE FUNCTION qrbook_notify_user_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    PERFORM pg_notify('qrbook_room_events', '*');
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER users_notify_rename AFTER UPDATE OF name ON "users"
  FOR EACH ROW EXECUTE FUNCTION qrbook_notify_user_rename();

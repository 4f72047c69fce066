-- Settings an admin changes at run time (issue 26): app_timezone, the rooms' time zone, which
-- APP_TIMEZONE only defaults. Every instance follows a change through the change record.
CREATE TABLE "settings" (
	"key" varchar(60) PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);

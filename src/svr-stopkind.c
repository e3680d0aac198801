/* svr-stopkind.c - whether a SIGTERM is a stop or a restart: the type of
 * our unit's job, as hellod.service's ExecStop= wrote it down, else as
 * systemd says over the system bus. */
#include "config.h"

#include "svr-stopkind.h"

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

/* The answer must come while the stop is young: the stop's own limit is 5 s. */
#define BUS_TIMEOUT_USEC (1000 * 1000ULL)

#define SYSTEMD_DEST "org.freedesktop.systemd1"
/* In $RUNTIME_DIRECTORY: what hellod.service's ExecStop= found. */
#define STOP_JOB_FILE "stop-job"

/* A job type as systemd names it: the ones that keep the store. */
static enum stop_kind kind_of(const char *type)
{
    static const char *const restarts[] = {"restart", "try-restart", "reload-or-restart",
                                           "try-reload-or-restart"};

    for (size_t i = 0; i < sizeof restarts / sizeof restarts[0]; i++)
        if (strcmp(type, restarts[i]) == 0)
            return STOP_RESTART;
    return STOP_STOP;
}

/* hellod.service's ExecStop= (as root, before the SIGTERM) writes the
 * unit's job there, as `systemctl list-jobs` shows it: "ID UNIT TYPE STATE".
 * A DynamicUser= service cannot reach dbus-daemon under systemd 250.4 and
 * later (systemd issue 22737), so this is the way on Debian 12. The file is
 * read once: a later SIGTERM by hand finds none. */
static enum stop_kind from_file(char *what, size_t size)
{
    const char *dir = getenv("RUNTIME_DIRECTORY");
    char path[PATH_MAX], line[256], type[64];
    enum stop_kind kind = STOP_UNKNOWN;
    FILE *f;

    if (!dir || strchr(dir, ':') || /* several directories: not ours */
        snprintf(path, sizeof path, "%s/" STOP_JOB_FILE, dir) >= (int)sizeof path ||
        !(f = fopen(path, "re")))
        return STOP_UNKNOWN;
    if (!fgets(line, sizeof line, f) || sscanf(line, "%*s %*s %63s", type) != 1) {
        kind = STOP_STOP; /* no job: exiting ends the unit, and the store */
        snprintf(what, size, "no job");
    } else {
        kind = kind_of(type);
        snprintf(what, size, "a %s job", type);
    }
    fclose(f);
    unlink(path);
    return kind;
}

static enum stop_kind ask(sd_bus *bus, char *what, size_t size)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    char *job_type = NULL;
    const char *job_path = NULL;
    enum stop_kind kind = STOP_UNKNOWN;
    uint32_t id = 0;

    /* "self": the unit of the caller, which systemd finds from our PID (the
     * sandbox hides /proc/1, which sd_pid_get_unit() needs). */
    if (sd_bus_get_property(bus, SYSTEMD_DEST, "/org/freedesktop/systemd1/unit/self",
                            "org.freedesktop.systemd1.Unit", "Job", &err, &reply, "(uo)") < 0 ||
        sd_bus_message_read(reply, "(uo)", &id, &job_path) < 0)
        goto out;
    if (id == 0) {
        snprintf(what, size, "no job");
        kind = STOP_STOP; /* exiting without a job ends the unit: the store is emptied */
        goto out;
    }
    if (sd_bus_get_property_string(bus, SYSTEMD_DEST, job_path, "org.freedesktop.systemd1.Job",
                                   "JobType", &err, &job_type) < 0)
        goto out;
    kind = kind_of(job_type);
    snprintf(what, size, "a %s job", job_type);
out:
    if (kind == STOP_UNKNOWN)
        snprintf(what, size, "no answer from systemd: %s",
                 err.message ? err.message : "a malformed reply");
    free(job_type);
    sd_bus_message_unref(reply);
    sd_bus_error_free(&err);
    return kind;
}

enum stop_kind stop_kind_query(char *what, size_t size)
{
    sd_bus *bus = NULL;
    enum stop_kind kind = from_file(what, size);

    if (kind != STOP_UNKNOWN)
        return kind;
    /* systemd sets it for every unit it starts: without it, the unit this
     * process runs in (a login session, a CI job) is not the one whose store
     * $FDSTORE names, and its job says nothing about ours. */
    if (!getenv("INVOCATION_ID")) {
        snprintf(what, size, "not started by systemd");
        return STOP_UNKNOWN;
    }
    if (sd_bus_open_system(&bus) < 0) {
        snprintf(what, size, "no system bus");
        return STOP_UNKNOWN;
    }
    (void)sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_USEC);
    kind = ask(bus, what, size);
    sd_bus_flush_close_unref(bus);
    return kind;
}

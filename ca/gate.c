/*
 * The HSM gate (ES-HSM-01..04, ES-ENV-02) applied by eseal-ca before key
 * generation and signing; see gate.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmvp.h"
#include "gate.h"
#include "log.h"
#include "util.h"

static int
is_softhsm(const struct hsm_token_info *ti)
{
	return strcmp(ti->manufacturer, "SoftHSM project") == 0 ||
	    strncmp(ti->model, "SoftHSM", 7) == 0;
}

int
gate_check(struct db *db, const struct hsm_token_info *ti,
    enum gate_use use, const char *actor, const char *object,
    char *cert, size_t certsz, char *status, size_t statussz)
{
	struct cmvp_effective eff;
	struct cmvp_record rec;
	char number[32], fw[16], detail[512], *mode = NULL, *minlvl = NULL;
	char *allow = NULL;
	const char *rule = NULL;
	int ret = 0, found, min_level = 3;
	time_t now = now_utc();

	detail[0] = '\0';
	snprintf(fw, sizeof(fw), "%u.%u", ti->fw_major, ti->fw_minor);
	mode = db_meta_get(db, "instance_mode");
	if ((minlvl = db_meta_get(db, "min_cmvp_level")) != NULL) {
		min_level = atoi(minlvl);
	}
	if (mode != NULL && strcmp(mode, "production") == 0 && is_softhsm(ti)) {
		rule = "ES-ENV-02";
		snprintf(detail, sizeof(detail), "token %s (%s/%s) is SoftHSM2: "
		    "a production instance refuses software tokens",
		    ti->serial, ti->manufacturer, ti->model);
		goto decide;
	}
	/* ES-HSM-ID-01: a PKCS#11 3.2 validation object wins over the map. */
	if (ti->cmvp_cert[0] != '\0') {
		snprintf(number, sizeof(number), "%s", ti->cmvp_cert);
	} else {
		found = cmvp_token_mapping(db, ti->manufacturer, ti->model,
		    ti->serial, fw, number, sizeof(number));
		if (found < 0) {
			goto out;
		}
		if (found == 0) {
			rule = "ES-HSM-01";
			snprintf(detail, sizeof(detail), "token %s (%s/%s fw %s) "
			    "is not mapped to a CMVP certificate (eseal-policy "
			    "hsm map)", ti->serial, ti->manufacturer, ti->model,
			    fw);
			goto decide;
		}
	}
	if (!cmvp_effective(db, number, now, &eff)) {
		goto out;
	}
	found = cmvp_lookup(db, number, &rec);
	if (found < 0) {
		goto out;
	}
	if (found == 1 && rec.local && mode != NULL &&
	    strcmp(mode, "production") == 0) {
		rule = "ES-CMVP-05";
		snprintf(detail, sizeof(detail), "CMVP certificate %s is a local "
		    "declaration: refused in a production instance", number);
		goto decide;
	}
	if (cert != NULL) {
		snprintf(cert, certsz, "%s", number);
	}
	if (status != NULL) {
		snprintf(status, statussz, "%s", cmvp_status_name(eff.status));
	}
	if (use == GATE_SIGN) {
		if (eff.status == CMVP_REVOKED) {
			rule = "ES-HSM-02";
		} else if (eff.status == CMVP_HISTORICAL) {
			allow = db_meta_get(db, "allow_historical_signing_until");
			if (allow == NULL || strcmp(allow, "") == 0) {
				rule = "ES-HSM-02";
			} else {
				time_t until;

				if (!time_parse(allow, &until,
				    "allow_historical_signing_until") ||
				    now > until) {
					rule = "ES-HSM-02";
				}
			}
		}
		if (rule != NULL) {
			snprintf(detail, sizeof(detail), "token %s: CMVP "
			    "certificate %s is %s since %s (%s); signing refused",
			    ti->serial, number, cmvp_status_name(eff.status),
			    eff.since[0] ? eff.since : "?", eff.reason);
		}
		goto decide;
	}
	if (eff.status != CMVP_ACTIVE) {
		rule = "ES-HSM-01";
		snprintf(detail, sizeof(detail), "token %s: CMVP certificate %s "
		    "is %s%s%s (%s); no new CA key may be generated on it",
		    ti->serial, number, cmvp_status_name(eff.status),
		    eff.since[0] ? " since " : "", eff.since, eff.reason);
		goto decide;
	}
	if (found == 1 && rec.overall_level < min_level) {
		rule = "ES-HSM-04";
		snprintf(detail, sizeof(detail), "token %s: CMVP certificate %s "
		    "is level %d, the policy needs %d", ti->serial, number,
		    rec.overall_level, min_level);
		goto decide;
	}
	snprintf(detail, sizeof(detail), "ES-HSM-01 ES-HSM-04 pass: token %s "
	    "CMVP %s %s level %d snapshot %s", ti->serial, number,
	    cmvp_status_name(eff.status), found == 1 ? rec.overall_level : 0,
	    found == 1 ? rec.snapshot_date : "?");
decide:
	if (rule != NULL) {
		char full[600];

		log_warnx("%s: %s: %s", object, rule, detail);
		snprintf(full, sizeof(full), "%s: %s", rule, detail);
		audit_append(db, actor, "policy-gate", object, NULL,
		    "refused", full);
		goto out;
	}
	audit_append(db, actor, "policy-gate", object, NULL, "pass", detail);
	ret = 1;
out:
	free(mode);
	free(minlvl);
	free(allow);
	return ret;
}

void
gate_sunset_warn(struct db *db, const char *cert, time_t not_after,
    const char *actor, const char *object, char *warn, size_t warnsz)
{
	struct cmvp_record rec;
	char na[32], detail[256];
	time_t sunset;

	if (warn != NULL && warnsz > 0) {
		warn[0] = '\0';
	}
	if (cert == NULL || cert[0] == '\0' || cmvp_lookup(db, cert, &rec) != 1 ||
	    rec.sunset_date[0] == '\0' ||
	    !time_parse(rec.sunset_date, &sunset, "sunset") ||
	    sunset >= not_after) {
		return;
	}
	time_fmt(not_after, na, sizeof(na));
	snprintf(detail, sizeof(detail), "ES-HSM-02: warning: CMVP certificate "
	    "%s sunsets on %s, before the CA certificate's notAfter %.10s: "
	    "plan the key's migration", cert, rec.sunset_date, na);
	log_warnx("%s: %s", object, detail);
	audit_append(db, actor, "policy-gate", object, NULL, "warn", detail);
	if (warn != NULL) {
		snprintf(warn, warnsz, "%s", detail);
	}
}

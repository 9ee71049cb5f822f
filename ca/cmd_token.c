/*
 * "eseal-ca token list|mechanisms": what a PKCS#11 module offers, for the
 * ceremony's review (token identity, flags, mechanisms).  Reads only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "args.h"
#include "ca.h"
#include "log.h"

static void
usage(FILE *fp)
{
	fprintf(fp, _("usage: eseal-ca token list --module PATH [--json]\n"
	    "       eseal-ca token mechanisms --module PATH --token LABEL [--json]\n"
	    "  Lists the tokens present in a PKCS#11 module (label, manufacturer,\n"
	    "  model, serial, firmware and hardware versions, flags) or the\n"
	    "  mechanisms of one token.  A token in CKF_ERROR_STATE is flagged.\n"));
}

static json_t *
token_json(const struct hsm_token_info *t)
{
	char hw[16], fw[16];

	snprintf(hw, sizeof(hw), "%u.%u", t->hw_major, t->hw_minor);
	snprintf(fw, sizeof(fw), "%u.%u", t->fw_major, t->fw_minor);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:s,s:s}",
	    "slot", (json_int_t)t->slot_id, "label", t->label,
	    "manufacturer", t->manufacturer, "model", t->model,
	    "serial", t->serial, "hardware", hw, "firmware", fw,
	    "flags", (json_int_t)t->flags, "error_state", t->error_state,
	    "library", t->lib_description, "cmvp_certificate", t->cmvp_cert);
}

int
cmd_token(int argc, char **argv)
{
	static const char *const valued[] = { "module", "token", NULL };
	struct hsm_module *mod = NULL;
	struct hsm_token_info *toks = NULL;
	struct hsm_mech *mechs = NULL;
	struct args a;
	json_t *arr = NULL;
	const char *label;
	size_t n = 0, nm = 0, i;
	int ret = EXIT_ERROR;

	if (!args_start(argc, argv, valued, NULL, &a, usage, &ret)) {
		return ret;
	}
	if (a.npos != 1 || !args_need(&a, "module", "token")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((mod = hsm_module_load(args_get(&a, "module"))) == NULL) {
		goto out;
	}
	if (!hsm_module_tokens(mod, &toks, &n)) {
		goto out;
	}
	if (strcmp(a.pos[0], "list") == 0) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			if (g.json) {
				json_array_append_new(arr, token_json(&toks[i]));
				continue;
			}
			printf("slot %lu: label \"%s\" manufacturer \"%s\" model "
			    "\"%s\" serial \"%s\" hw %u.%u fw %u.%u flags 0x%lx%s\n",
			    toks[i].slot_id, toks[i].label, toks[i].manufacturer,
			    toks[i].model, toks[i].serial, toks[i].hw_major,
			    toks[i].hw_minor, toks[i].fw_major, toks[i].fw_minor,
			    toks[i].flags, toks[i].error_state ?
			    " ERROR-STATE (refused)" : "");
		}
		if (g.json) {
			json_print(arr);
			arr = NULL;
		}
		ret = EXIT_OK;
	} else if (strcmp(a.pos[0], "mechanisms") == 0) {
		if (!args_need(&a, "token", "token mechanisms")) {
			ret = EXIT_USAGE;
			goto out;
		}
		label = args_get(&a, "token");
		for (i = 0; i < n; i++) {
			if (strcmp(toks[i].label, label) == 0) {
				break;
			}
		}
		if (i == n) {
			log_warnx("token %s: no such token in %s", label,
			    args_get(&a, "module"));
			goto out;
		}
		if (!hsm_module_mechanisms(mod, toks[i].slot_id, &mechs, &nm)) {
			goto out;
		}
		arr = json_array();
		for (i = 0; i < nm; i++) {
			if (g.json) {
				json_array_append_new(arr, json_pack(
				    "{s:s,s:I,s:I,s:I,s:I}", "name", mechs[i].name,
				    "type", (json_int_t)mechs[i].type,
				    "min_key", (json_int_t)mechs[i].min_key,
				    "max_key", (json_int_t)mechs[i].max_key,
				    "flags", (json_int_t)mechs[i].flags));
			} else {
				printf("%-32s keys %lu..%lu flags 0x%lx\n",
				    mechs[i].name, mechs[i].min_key,
				    mechs[i].max_key, mechs[i].flags);
			}
		}
		if (g.json) {
			json_print(arr);
			arr = NULL;
		}
		ret = EXIT_OK;
	} else {
		usage(stderr);
		ret = EXIT_USAGE;
	}
out:
	json_decref(arr);
	free(toks);
	free(mechs);
	hsm_module_free(mod);
	return ret;
}

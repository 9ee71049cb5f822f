/*
 * "eseal-policy lint": read certificates (DER or PEM), lint each against
 * the rules for its kind (and e-seal profile), print the findings as text
 * or JSON, and exit 1 if any rule failed.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "i18n.h"
#include "lint.h"
#include "lint_int.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define CERT_MAX	(1024 * 1024)

static void
lint_usage(FILE *fp)
{
	fprintf(fp,
	    _("usage: eseal-policy lint [--json] [--kind eseal|root|issuing|ocsp]\n"
	    "           [--profile NAME] [--issuer CERT] [--policy FILE] CERT...\n"
	    "\n"
	    "  --json          print one JSON object per certificate (an array\n"
	    "                  when several are given)\n"
	    "  --kind KIND     eseal (default), root, issuing or ocsp\n"
	    "  --profile NAME  e-seal profile: eseal-qualified, eseal, eseal-jp\n"
	    "  --issuer CERT   the issuing CA certificate (chain checks)\n"
	    "  --policy FILE   algorithm policy (JSON) instead of the default\n"
	    "\n"
	    "Exit status: 0 no FAIL, 1 a rule failed, 2 usage, 3 unreadable input.\n"));
}

/*
 * Read one certificate from path: PEM (one CERTIFICATE block, nothing but
 * blanks after it) or DER (no trailing bytes).  NULL (logged) on error.
 */
static X509 *
cert_load(const char *path)
{
	unsigned char		*buf = NULL;
	const unsigned char	*p;
	size_t			 len, i;
	BIO			*bio = NULL;
	X509			*x = NULL, *ret = NULL;
	char			 rest[256];
	int			 n;

	if (!file_read(path, CERT_MAX, &buf, &len)) {
		goto out;
	}
	for (i = 0; i < len && isspace(buf[i]); i++) {
		continue;
	}
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			fatalx("cert_load: out of memory");
		}
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			log_ssl("%s: not a PEM certificate", path);
			goto out;
		}
		while ((n = BIO_read(bio, rest, sizeof(rest))) > 0) {
			for (i = 0; i < (size_t)n; i++) {
				if (!isspace((unsigned char)rest[i])) {
					log_warnx("%s: trailing data after the "
					    "certificate", path);
					goto out;
				}
			}
		}
	} else {
		p = buf;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
			log_ssl("%s: not a DER or PEM certificate", path);
			goto out;
		}
		if (p != buf + len) {
			log_warnx("%s: %td bytes trailing garbage", path,
			    (buf + len) - p);
			goto out;
		}
	}
	ret = x;
	x = NULL;
 out:
	X509_free(x);
	BIO_free(bio);
	free(buf);
	return ret;
}

int
cmd_lint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "profile", required_argument, NULL, 'p' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "policy", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lint_opts	 o;
	struct alg_policy	*ap = NULL;
	struct findings		 f;
	X509			*issuer = NULL, *x;
	const char		*issuer_path = NULL, *policy_path = NULL;
	int			 ch, json = 0, ret = EXIT_OK, i, printed = 0;

	memset(&o, 0, sizeof(o));
	o.kind = LINT_ESEAL;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'k':
			if (strcmp(optarg, "eseal") == 0) {
				o.kind = LINT_ESEAL;
			} else if (strcmp(optarg, "root") == 0) {
				o.kind = LINT_ROOT_CA;
			} else if (strcmp(optarg, "issuing") == 0) {
				o.kind = LINT_ISSUING_CA;
			} else if (strcmp(optarg, "ocsp") == 0) {
				o.kind = LINT_OCSP_SIGNER;
			} else {
				log_warnx("lint: unknown kind \"%s\" (eseal, "
				    "root, issuing, ocsp)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (eseal_profile_find(optarg) == NULL) {
				log_warnx("lint: unknown profile \"%s\" "
				    "(eseal-qualified, eseal, eseal-jp)",
				    optarg);
				return EXIT_USAGE;
			}
			o.profile = optarg;
			break;
		case 'i':
			issuer_path = optarg;
			break;
		case 'P':
			policy_path = optarg;
			break;
		case 'h':
			lint_usage(stdout);
			return EXIT_OK;
		default:
			log_warnx("lint: unknown option or missing argument: "
			    "%s", argv[optind - 1]);
			lint_usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		lint_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.profile != NULL && o.kind != LINT_ESEAL) {
		log_warnx("lint: --profile applies to --kind eseal only");
		return EXIT_USAGE;
	}
	if (issuer_path != NULL && (issuer = cert_load(issuer_path)) == NULL) {
		ret = EXIT_ERROR;
		goto out;
	}
	if (policy_path != NULL && (ap = alg_policy_load(policy_path)) ==
	    NULL) {
		ret = EXIT_ERROR;
		goto out;
	}
	o.issuer = issuer;
	o.ap = ap;

	if (json && argc > 1) {
		printf("[\n");
	}
	for (i = 0; i < argc; i++) {
		if ((x = cert_load(argv[i])) == NULL) {
			ret = EXIT_ERROR;
			continue;
		}
		findings_init(&f);
		if (!lint_certificate(x, &o, &f) && ret == EXIT_OK) {
			ret = EXIT_REFUSED;
		}
		if (json && printed++ > 0) {
			printf(",\n");
		}
		findings_print(stdout, &f, argv[i], json);
		findings_free(&f);
		X509_free(x);
	}
	if (json && argc > 1) {
		printf("]\n");
	}
	fflush(stdout);
 out:
	alg_policy_free(ap);
	X509_free(issuer);
	return ret;
}

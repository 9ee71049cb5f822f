/*
 * The store's schema as forward migrations: db_migrations[i] takes a
 * store from user_version i to i+1.  Never edit a released migration;
 * append a new one.
 */
#include "config.h"

#include <stddef.h>

#include "schema.h"

const char *const db_migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"

	/* People.  pass_hash: scrypt$N$r$p$salt_hex$hash_hex. */
	"CREATE TABLE operators ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('officer','operator','auditor')),"
	"  pass_hash TEXT NOT NULL,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  card_module TEXT,"		/* second factor: a personal PKCS#11 card */
	"  card_token_serial TEXT,"
	"  card_key_id TEXT,"
	"  card_pubkey BLOB,"		/* DER SubjectPublicKeyInfo */
	"  created TEXT NOT NULL,"
	"  created_by TEXT NOT NULL DEFAULT '');"

	/* Certification authorities of this instance and their keys. */
	"CREATE TABLE cas ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('root','issuing')),"
	"  parent_id INTEGER REFERENCES cas(id),"
	"  status TEXT NOT NULL CHECK (status IN ('pending','active','revoked','retired')),"
	"  cert_der BLOB,"		/* NULL while a CSR awaits an external root */
	"  cert_sha256 TEXT,"
	"  subject TEXT NOT NULL,"
	"  not_before TEXT,"
	"  not_after TEXT,"
	"  key_alg TEXT NOT NULL,"
	"  sig_alg TEXT NOT NULL,"
	"  module_path TEXT NOT NULL,"
	"  token_label TEXT NOT NULL,"
	"  token_serial TEXT NOT NULL,"
	"  token_manufacturer TEXT NOT NULL,"
	"  token_model TEXT NOT NULL,"
	"  token_hw TEXT NOT NULL,"
	"  token_fw TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  key_label TEXT NOT NULL,"
	"  prov_local INTEGER NOT NULL,"
	"  prov_always_sensitive INTEGER NOT NULL,"
	"  prov_never_extractable INTEGER NOT NULL,"
	"  prov_extractable INTEGER NOT NULL,"
	"  cmvp_cert TEXT,"
	"  cmvp_status_at_gen TEXT,"
	"  key_destroyed TEXT,"
	"  ceremony_id TEXT,"
	"  settings TEXT NOT NULL DEFAULT '{}',"
	"  created TEXT NOT NULL);"

	/* Issuance requests and approvals (approvals bind a content hash). */
	"CREATE TABLE requests ("
	"  id TEXT PRIMARY KEY,"
	"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
	"  csr_der BLOB NOT NULL,"
	"  profile TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  subject_hsm TEXT,"
	"  content_hash TEXT NOT NULL,"
	"  submitter TEXT NOT NULL,"
	"  submitted TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('pending','refused','rejected','issued')),"
	"  refusal TEXT);"
	"CREATE TABLE approvals ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"		/* request, revocation, key-destroy, ... */
	"  object TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL,"
	"  operator_id INTEGER NOT NULL REFERENCES operators(id),"
	"  decision TEXT NOT NULL CHECK (decision IN ('approve','reject')),"
	"  time TEXT NOT NULL,"
	"  UNIQUE (kind, object, operator_id));"

	/* Issued certificates; serial is lower-case hex without leading zeros. */
	"CREATE TABLE certificates ("
	"  id INTEGER PRIMARY KEY,"
	"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
	"  serial TEXT NOT NULL UNIQUE,"
	"  request_id TEXT REFERENCES requests(id),"
	"  subject TEXT NOT NULL,"
	"  profile TEXT NOT NULL,"
	"  not_before TEXT NOT NULL,"
	"  not_after TEXT NOT NULL,"
	"  partition INTEGER,"
	"  der BLOB NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  issued TEXT NOT NULL);"
	"CREATE INDEX certificates_ca ON certificates(ca_id, serial);"
	"CREATE TABLE serials_burned ("
	"  serial TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL);"
	"CREATE TABLE revocations ("
	"  cert_id INTEGER PRIMARY KEY REFERENCES certificates(id),"
	"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
	"  serial TEXT NOT NULL UNIQUE,"
	"  time TEXT NOT NULL,"
	"  reason INTEGER NOT NULL,"
	"  invalidity_date TEXT,"
	"  approved_by TEXT NOT NULL DEFAULT '');"

	/* CRLs: numbers strictly increase per CA and are never reused. */
	"CREATE TABLE crls ("
	"  id INTEGER PRIMARY KEY,"
	"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
	"  number INTEGER NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('full','delta','arl')),"
	"  base_number INTEGER,"
	"  partition INTEGER,"
	"  this_update TEXT NOT NULL,"
	"  next_update TEXT NOT NULL,"
	"  der BLOB NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  UNIQUE (ca_id, number));"
	"CREATE TABLE crl_floor ("	/* the next number must be above this */
	"  ca_id INTEGER PRIMARY KEY REFERENCES cas(id),"
	"  floor INTEGER NOT NULL);"

	/* The audit chain and its signed heads. */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time TEXT NOT NULL,"
	"  operators TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  request_hash TEXT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE TABLE audit_signatures ("
	"  id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL,"
	"  head_hash TEXT NOT NULL,"
	"  time TEXT NOT NULL,"
	"  signer_cert_sha256 TEXT NOT NULL,"
	"  sig_alg TEXT NOT NULL,"
	"  signature BLOB NOT NULL);"

	/* Key ceremonies and their transcripts. */
	"CREATE TABLE ceremonies ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  file_sha256 TEXT NOT NULL,"
	"  officers TEXT NOT NULL,"
	"  started TEXT NOT NULL,"
	"  finished TEXT,"
	"  result TEXT NOT NULL,"
	"  transcript TEXT NOT NULL,"
	"  transcript_sha256 TEXT NOT NULL);"

	/* NIST CMVP registry (policy gate). */
	"CREATE TABLE cmvp_snapshots ("
	"  id INTEGER PRIMARY KEY,"
	"  snapshot_date TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  file_sha256 TEXT NOT NULL,"
	"  imported TEXT NOT NULL,"
	"  imported_by TEXT NOT NULL DEFAULT '',"
	"  records INTEGER NOT NULL,"
	"  local INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE cmvp_modules ("
	"  cert_number TEXT PRIMARY KEY,"
	"  vendor TEXT NOT NULL,"
	"  module_name TEXT NOT NULL,"
	"  standard TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  overall_level INTEGER,"
	"  module_type TEXT,"
	"  embodiment TEXT,"
	"  sunset_date TEXT,"
	"  validation_dates TEXT,"
	"  snapshot_id INTEGER NOT NULL REFERENCES cmvp_snapshots(id),"
	"  local INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE cmvp_history ("
	"  id INTEGER PRIMARY KEY,"
	"  cert_number TEXT NOT NULL,"
	"  field TEXT NOT NULL,"
	"  old_value TEXT,"
	"  new_value TEXT,"
	"  changed TEXT NOT NULL,"	/* snapshot date that showed the change */
	"  snapshot_id INTEGER NOT NULL REFERENCES cmvp_snapshots(id));"
	"CREATE TABLE hsm_map ("
	"  id INTEGER PRIMARY KEY,"
	"  manufacturer TEXT NOT NULL,"
	"  model TEXT NOT NULL,"
	"  serial TEXT NOT NULL DEFAULT '*',"
	"  firmware TEXT NOT NULL DEFAULT '*',"
	"  cert_number TEXT NOT NULL,"
	"  mapped_by TEXT NOT NULL,"
	"  mapped TEXT NOT NULL,"
	"  UNIQUE (manufacturer, model, serial, firmware));",

	/*
	 * 1 -> 2: the HSM inventory.  Every token eseal-ca opened for a CA
	 * key, as it identified itself, with the mechanisms it offered (for
	 * the compliance report: ready for ML-DSA or not).
	 */
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  manufacturer TEXT NOT NULL,"
	"  model TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  label TEXT NOT NULL,"
	"  hw TEXT NOT NULL,"
	"  fw TEXT NOT NULL,"
	"  library TEXT NOT NULL,"
	"  module_path TEXT NOT NULL,"
	"  mechanisms TEXT NOT NULL,"	/* JSON array of CKM names */
	"  first_seen TEXT NOT NULL,"
	"  last_seen TEXT NOT NULL,"
	"  UNIQUE (manufacturer, model, serial));",

	/*
	 * 2 -> 3: vendor roots of HSM key attestation chains.  cmvp_cert is
	 * the CMVP certificate of the HSM product line the root attests.
	 */
	"CREATE TABLE attestation_roots ("
	"  name TEXT PRIMARY KEY,"
	"  cert_der BLOB NOT NULL,"
	"  cert_sha256 TEXT NOT NULL,"
	"  cmvp_cert TEXT NOT NULL,"
	"  added_by TEXT NOT NULL,"
	"  added TEXT NOT NULL);",

	/*
	 * 3 -> 4: CRL order.  Serials are lower-case hex without leading
	 * zeros, so numeric order is (length, text).  A revocation carries a
	 * copy of its certificate's notAfter and CRL partition (kept by a
	 * trigger, since neither changes after issuance), so that a CRL of a
	 * million entries is one scan of a covering index: no sort, no
	 * lookup of the (large) certificate rows.
	 */
	"ALTER TABLE revocations ADD COLUMN cert_not_after TEXT;"
	"ALTER TABLE revocations ADD COLUMN cert_partition INTEGER;"
	"UPDATE revocations SET"
	"  cert_not_after = (SELECT not_after FROM certificates c"
	"    WHERE c.id = revocations.cert_id),"
	"  cert_partition = (SELECT partition FROM certificates c"
	"    WHERE c.id = revocations.cert_id);"
	"CREATE TRIGGER revocations_cert_copy AFTER INSERT ON revocations"
	" BEGIN"
	"  UPDATE revocations SET"
	"    cert_not_after = (SELECT not_after FROM certificates"
	"      WHERE id = NEW.cert_id),"
	"    cert_partition = (SELECT partition FROM certificates"
	"      WHERE id = NEW.cert_id)"
	"  WHERE cert_id = NEW.cert_id;"
	" END;"
	"CREATE INDEX revocations_crl_order ON revocations"
	"  (ca_id, length(serial), serial, time, reason, invalidity_date,"
	"  cert_not_after, cert_partition);",

	/*
	 * 4 -> 5: chained signed heads.  A head signed from now on also
	 * covers the signed head before it (its sequence number, its hash
	 * and the SHA-256 of its signature), so removing or replacing any
	 * signature row breaks the next one.  NULL in rows signed before:
	 * those verify as they always did (message v1).
	 */
	"ALTER TABLE audit_signatures ADD COLUMN prev_seq INTEGER;"
	"ALTER TABLE audit_signatures ADD COLUMN prev_head_hash TEXT;"
	"ALTER TABLE audit_signatures ADD COLUMN prev_sig_sha256 TEXT;",

	/*
	 * 5 -> 6: export order.  export-status lists a CA's certificates
	 * in issuance order (ORDER BY id); this covering index hands them
	 * out in that order, so ten million rows stream without a sort.
	 */
	"CREATE INDEX certificates_export ON certificates(ca_id, id, serial);",
};

const size_t db_migrations_count =
    sizeof(db_migrations) / sizeof(db_migrations[0]);

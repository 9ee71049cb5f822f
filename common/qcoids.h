/*
 * The object identifiers of ETSI EN 319 412-5 qualified-certificate
 * statements and of the ETSI certificate policies that the CA writes into
 * e-seal certificates and the policy linter checks, in one place so that
 * the writer and the checker cannot drift apart.
 */
#ifndef ESEAL_QCOIDS_H
#define ESEAL_QCOIDS_H

#define OID_QC_STATEMENTS	"1.3.6.1.5.5.7.1.3"
#define OID_QC_COMPLIANCE	"0.4.0.1862.1.1"
#define OID_QC_RETENTION	"0.4.0.1862.1.3"
#define OID_QC_SSCD		"0.4.0.1862.1.4"
#define OID_QC_PDS		"0.4.0.1862.1.5"
#define OID_QC_TYPE		"0.4.0.1862.1.6"
#define OID_QCT_ESEAL		"0.4.0.1862.1.6.2"
#define OID_QC_CCLEG		"0.4.0.1862.1.7"
#define OID_QCS_SYNTAX_V2	"1.3.6.1.5.5.7.11.2"
#define OID_SEMANTICS_LEGAL	"0.4.0.194121.1.2"
#define OID_QCP_PREFIX		"0.4.0.194112.1."
#define OID_QCP_L		"0.4.0.194112.1.1"
#define OID_QCP_L_QSCD		"0.4.0.194112.1.3"

#endif

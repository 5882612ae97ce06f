/* sealtip audit: checks a copy of the intake server's database offline, with
 * no secret (docs/audit.md). */
#ifndef SEALTIP_CMD_AUDIT_H
#define SEALTIP_CMD_AUDIT_H

int cmd_audit(int argc, char **argv);

#endif

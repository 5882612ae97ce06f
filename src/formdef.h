/* The report form as data: web/form.json (questions, in order) and a labels
 * file web/i18n/<lang>.json, both compiled into the tool so that report.txt
 * on an offline machine shows the same questions the page asked. */
#ifndef SEALTIP_FORMDEF_H
#define SEALTIP_FORMDEF_H

#include <jansson.h>

struct formdef {
	json_t *form;   /* {"id", "fields": [{"id", "type", "options"?}...]} */
	json_t *labels; /* {"fields": {id: {"label", "options"?: {value: label}}}} */
};

/* Loads the built-in form and English labels. Returns 0 or -1. */
int formdef_load_builtin(struct formdef *def);

/* Replaces the labels with a labels file's (e.g. web/i18n/km.json); 0 or -1. */
int formdef_load_labels(struct formdef *def, const char *text, size_t len);

void formdef_free(struct formdef *def);

/* The form's id, e.g. "bribery-report/1". */
const char *formdef_id(const struct formdef *def);

/* The fields array, in the order the page shows them. */
json_t *formdef_fields(const struct formdef *def);

/* The question for a field id, or NULL when the form has none. */
const char *formdef_field_label(const struct formdef *def, const char *field_id);

/* The label of one choice of a checkbox/radio field, or NULL. */
const char *formdef_option_label(const struct formdef *def, const char *field_id,
    const char *option);

#endif

#include <string.h>

#include "formdef.h"

extern const unsigned char formdata_form[];
extern const size_t formdata_form_len;
extern const unsigned char formdata_labels[];
extern const size_t formdata_labels_len;

static json_t *
load_object(const unsigned char *text, size_t len)
{
	json_t *root;

	root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int
formdef_load_builtin(struct formdef *def)
{
	def->form = load_object(formdata_form, formdata_form_len);
	def->labels = load_object(formdata_labels, formdata_labels_len);
	if (def->form == NULL || def->labels == NULL ||
	    !json_is_array(json_object_get(def->form, "fields"))) {
		formdef_free(def);
		return -1;
	}
	return 0;
}

int
formdef_load_labels(struct formdef *def, const char *text, size_t len)
{
	json_t *labels;

	if ((labels = load_object((const unsigned char *)text, len)) == NULL)
		return -1;
	json_decref(def->labels);
	def->labels = labels;
	return 0;
}

void
formdef_free(struct formdef *def)
{
	json_decref(def->form);
	json_decref(def->labels);
	def->form = NULL;
	def->labels = NULL;
}

const char *
formdef_id(const struct formdef *def)
{
	return json_string_value(json_object_get(def->form, "id"));
}

json_t *
formdef_fields(const struct formdef *def)
{
	return json_object_get(def->form, "fields");
}

static json_t *
field_labels(const struct formdef *def, const char *field_id)
{
	return json_object_get(json_object_get(def->labels, "fields"), field_id);
}

const char *
formdef_field_label(const struct formdef *def, const char *field_id)
{
	return json_string_value(json_object_get(field_labels(def, field_id), "label"));
}

const char *
formdef_option_label(const struct formdef *def, const char *field_id, const char *option)
{
	json_t *options = json_object_get(field_labels(def, field_id), "options");

	return json_string_value(json_object_get(options, option));
}

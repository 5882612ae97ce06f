// The questions come from form.json (shared with `sealtip open`), their words
// from i18n/<lang>.json: rendering builds the controls with data-text keys,
// and i18n.applyStrings fills the words in, for any language.

const TEXT_TYPES = new Set(['text', 'textarea']);
const CHOICE_TYPES = new Set(['checkboxes', 'radio']);

export function fieldElementId(fieldId, option) {
  return option === undefined ? `field-${fieldId}` : `field-${fieldId}-${option}`;
}

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function hintAndError(field) {
  const id = fieldElementId(field.id);
  return [
    element('p', { class: 'hint', id: `${id}-hint`, 'data-text': `fields.${field.id}.hint`, 'data-optional': '' }),
    element('p', { class: 'error', id: `${id}-error`, hidden: '' }),
  ];
}

function renderTextField(field) {
  const id = fieldElementId(field.id);
  const label = element('label', { for: id }, [element('span', { 'data-text': `fields.${field.id}.label` })]);
  if (field.required) label.append(' ', element('span', { class: 'required', 'data-text': 'ui.required' }));
  // No autofill memory and no spell-check service: the browser would keep
  // or send the answers (an official's name, an amount) elsewhere.
  const control = element(field.type === 'textarea' ? 'textarea' : 'input', {
    id, name: field.id, 'aria-describedby': `${id}-hint`, autocomplete: 'off', spellcheck: 'false',
  });
  if (field.type === 'text') control.type = 'text';
  if (field.type === 'textarea') control.rows = field.id === 'what' ? 8 : 4;
  // No maxlength: a long answer pasted in would be cut without a word.
  // tooLong finds it at Send, and the person shortens it.
  if (field.required) control.setAttribute('aria-required', 'true');
  const [hint, error] = hintAndError(field);
  return element('div', { class: 'field' }, [label, hint, control, error]);
}

function renderChoiceField(field) {
  const id = fieldElementId(field.id);
  const type = field.type === 'radio' ? 'radio' : 'checkbox';
  const [hint, error] = hintAndError(field);
  const options = field.options.map((option) => {
    const optionId = fieldElementId(field.id, option);
    return element('div', { class: 'option' }, [
      element('input', { type, id: optionId, name: field.id, value: option }),
      element('label', { for: optionId, 'data-text': `fields.${field.id}.options.${option}` }),
    ]);
  });
  return element('fieldset', { class: 'field', id, 'aria-describedby': `${id}-hint` }, [
    element('legend', { 'data-text': `fields.${field.id}.label` }), hint, ...options, error,
  ]);
}

// Builds every question of the definition into container.
export function renderForm(definition, container) {
  container.replaceChildren(...definition.fields.map((field) => {
    if (TEXT_TYPES.has(field.type)) return renderTextField(field);
    if (CHOICE_TYPES.has(field.type)) return renderChoiceField(field);
    throw new Error(`form.json: field "${field.id}" has unknown type "${field.type}"`);
  }));
}

// The answers as the manifest wants them: text exactly as typed (no trimming:
// the report must read back byte for byte), option ids for choices; empty
// answers are left out.
export function readAnswers(definition, form) {
  const answers = {};
  for (const field of definition.fields) {
    if (TEXT_TYPES.has(field.type)) {
      const value = form.elements[field.id].value;
      if (value.trim() !== '') answers[field.id] = value;
    } else if (field.type === 'checkboxes') {
      const checked = field.options.filter((option) => document.getElementById(fieldElementId(field.id, option)).checked);
      if (checked.length > 0) answers[field.id] = checked;
    } else if (field.type === 'radio') {
      const checked = field.options.find((option) => document.getElementById(fieldElementId(field.id, option)).checked);
      if (checked !== undefined) answers[field.id] = checked;
    }
  }
  return answers;
}

// Text answers over their field's max_length -> [{id, length, max}],
// counted as maxlength counts (UTF-16 code units).
export function tooLong(definition, answers) {
  return definition.fields.filter((field) => field.max_length && typeof answers[field.id] === 'string' &&
    answers[field.id].length > field.max_length)
    .map((field) => ({ id: field.id, length: answers[field.id].length, max: field.max_length }));
}

// Required fields left empty -> [field id].
export function missingRequired(definition, answers) {
  return definition.fields.filter((field) => field.required && !(field.id in answers)).map((field) => field.id);
}

// Shows (message) or clears (null) the error of the control with this id,
// tied to it for screen readers with aria-invalid and aria-describedby.
export function setError(controlId, message) {
  const control = document.getElementById(controlId);
  const error = document.getElementById(`${controlId}-error`);
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== error.id);
  error.hidden = message === null;
  error.textContent = message || '';
  if (message === null) {
    control.removeAttribute('aria-invalid');
  } else {
    control.setAttribute('aria-invalid', 'true');
    described.push(error.id);
  }
  control.setAttribute('aria-describedby', described.join(' '));
}

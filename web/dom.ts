/** What `h` accepts as children: nodes, text, and nothing (skipped). */
export type Child = Node | string | null | undefined | false;

/**
 * Attributes of `h`: strings and numbers become attributes, `true` an empty
 * attribute, `false` and `undefined` nothing, and `on<event>` functions
 * listeners. No `style`: the console's CSP allows stylesheets only.
 */
export type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** Make an element: `h("button", { type: "button", onclick: save }, "Save")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child) element.append(child);
  return element;
}

let lastId = 0;

/** A unique element id, for labels and `aria-describedby`. */
export function newId(prefix = "c"): string {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

/** A labelled form control, with an optional hint read out with it. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
) {
  control.id ||= newId("field");
  const hintElement = hint ? h("p", { class: "hint", id: newId("hint") }, hint) : undefined;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  const wrapper = h("div", { class: "field" });
  if (control instanceof HTMLInputElement && (control.type === "checkbox" || control.type === "radio")) {
    wrapper.classList.add("checkbox");
    wrapper.append(control, h("label", { for: control.id }, label));
  } else {
    wrapper.append(h("label", { for: control.id }, label), control);
  }
  if (hintElement) wrapper.append(hintElement);
  return wrapper;
}

/** A select of `[value, label]` options with `selected` chosen. */
export function select(
  name: string,
  options: readonly (readonly [string, string])[],
  selected = "",
): HTMLSelectElement {
  return h(
    "select",
    { name },
    options.map(([value, label]) => h("option", { value, selected: value === selected }, label)),
  );
}

/** Replace the children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => !!c));
}

/**
 * Run `action` on submit, with the form's buttons disabled meanwhile and
 * `aria-busy` set, so that a double click sends one request.
 */
export function onSubmit(form: HTMLFormElement, action: () => Promise<void>): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    await busy(form, action);
  });
}

/** Run `action` with the buttons of `scope` disabled and `aria-busy` set. */
export async function busy(scope: HTMLElement, action: () => Promise<void>): Promise<void> {
  const buttons = [...scope.querySelectorAll("button")].filter((b) => !b.disabled);
  scope.setAttribute("aria-busy", "true");
  for (const button of buttons) button.disabled = true;
  try {
    await action();
  } finally {
    scope.removeAttribute("aria-busy");
    for (const button of buttons) button.disabled = false;
  }
}

/** Append the children that are there (nothing for null, undefined or false) to `parent`. */
export function appendChildren(parent: Element, ...children: Child[]): void {
  parent.append(...children.filter((c): c is Node | string => !!c));
}

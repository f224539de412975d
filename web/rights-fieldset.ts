import type { Right } from "../gen/roster/v1/rights_pb.js";
import { field, h } from "./dom.js";
import { adminRights, rightName, userRights } from "./rights.js";

/** A fieldset of one checkbox per right, named `data-field` for the server's errors about them. */
export function rightsFieldset(options: { admin: boolean; hint: string; dataField: string }) {
  const boxes = [...userRights, ...(options.admin ? adminRights : [])].map(([right, label]) => {
    const box = h("input", { type: "checkbox", name: "rights", value: String(right) });
    return { right, box, control: field(`${label} (${rightName(right)})`, box) };
  });
  const element = h(
    "fieldset",
    { "data-field": options.dataField },
    h("legend", {}, "Rights"),
    h("p", { class: "hint" }, options.hint),
    ...boxes.map((b) => b.control),
  );
  return {
    element,
    checked: (): Right[] => boxes.filter((b) => b.box.checked).map((b) => b.right),
    clear: () => {
      for (const b of boxes) b.box.checked = false;
    },
    set: (rights: readonly Right[]) => {
      for (const b of boxes) b.box.checked = rights.includes(b.right);
    },
  };
}

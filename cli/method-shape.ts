import type { DescField, DescMessage, DescMethod } from "@bufbuild/protobuf";
import { fieldAt, isFieldMask, isScalarLike } from "./descriptors.js";
import type { RpcCommandSpec } from "./rpc-spec.js";

/** What a method's descriptors say about how to drive it from the command line. */
export interface MethodShape {
  method: DescMethod;
  /** The request field holding the resource to create or update (`user`). */
  resource?: DescField & { fieldKind: "message" };
  updateMask?: DescField & { fieldKind: "message" };
  readMask?: DescField & { fieldKind: "message" };
  /** The response field that holds the result (`user`, `users`). */
  result?: DescField;
  /** The message type of the result. */
  resultType?: DescMessage;
  /**
   * Whether printing the result alone shows everything: the response's
   * other fields are paging fields or reported otherwise (`missing`). A
   * response with more (a new secret next to its record) prints whole.
   */
  resultSaysAll: boolean;
  /** Response fields of `extras`: the whole response is printed when one is set. */
  resultExtras?: DescField[];
  /** The message whose fields the select flags and the read mask name: the result's type, or a field of it (`records.select`). */
  selectType?: DescMessage;
}

/** Response fields the paging code reports on stderr. */
const pagingResponseFields = ["next_page_token", "total_size"];

export function shapeOf(method: DescMethod, spec: RpcCommandSpec): MethodShape {
  const reported = spec.missing ?? [];
  const shape: MethodShape = { method, resultSaysAll: false };
  for (const field of method.input.fields) {
    if (field.fieldKind !== "message") continue;
    if (isFieldMask(field)) {
      if (field.name === "update_mask") shape.updateMask = field;
      else shape.readMask = field;
    } else if (!isScalarLike(field.message)) {
      shape.resource = field;
    }
  }
  const results = method.output.fields.filter(
    (f) =>
      (f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message")) && !isScalarLike(f.message),
  );
  if (results.length === 1) {
    const result = results[0] as DescField;
    shape.result = result;
    shape.resultType = result.message;
    const extras = spec.extras ?? [];
    shape.resultExtras = method.output.fields.filter((f) => extras.includes(f.name));
    shape.resultSaysAll = method.output.fields.every(
      (f) =>
        f === result || pagingResponseFields.includes(f.name) || reported.includes(f.name) || extras.includes(f.name),
    );
    const select = spec.records?.select;
    const selected = select ? fieldAt(result.message as DescMessage, select) : undefined;
    shape.selectType = !selected ? result.message : selected.fieldKind === "message" ? selected.message : undefined;
  }
  return shape;
}

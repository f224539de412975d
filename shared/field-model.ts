import { type DescField, type DescMessage, getOption, hasOption } from "@bufbuild/protobuf";
import { FieldBehavior, field_behavior } from "../gen/google/api/field_behavior_pb.js";
import { FieldReader, FieldWriter, field as fieldRulesOption, TextFormat } from "../gen/roster/v1/field_rules_pb.js";

/**
 * What one field of a resource is, read from its annotations in the proto
 * (`google.api.field_behavior` and `roster.v1.field`): the single source
 * of truth behind the server's masks, validation and stored documents, the
 * CLI's flags and the console's forms. A field added to a message with its
 * annotations is picked up by all of them.
 */
export interface FieldSpec {
  /** The proto field name, which is also the mask path and the stored document key. */
  name: string;
  desc: DescField;
  /** `public`: anybody who may see the resource; `private`: its user and admins. */
  read: "public" | "private";
  /** Who may change it in an Update. */
  update: "self" | "admin" | "never";
  /** Whether Create takes it. */
  creatable: boolean;
  /** Set by the server only (google.api.field_behavior OUTPUT_ONLY). */
  outputOnly: boolean;
  /** Computed when a read mask names it; never stored, exported or imported. */
  computed: boolean;
  /** Set once, at creation (IDENTIFIER or IMMUTABLE). */
  immutable: boolean;
  required: boolean;
  /** Longest value in code points (strings and map values); 0: the default limit. */
  maxLength: number;
  multiline: boolean;
  /** Most entries of a map; 0: no limit of its own. */
  maxEntries: number;
  /** What every map key must match. */
  keyPattern?: RegExp;
  format: "text" | "user_id" | "email";
  /** Short human label; the name with spaces when not annotated. */
  label: string;
}

/** A message's fields, in proto order, by name. */
export interface FieldModel {
  message: DescMessage;
  fields: readonly FieldSpec[];
  byName: ReadonlyMap<string, FieldSpec>;
  /** Names of the fields Create takes. */
  creatable: readonly string[];
}

const models = new WeakMap<DescMessage, FieldModel>();

/** The field model of `message`, derived once from its descriptor. */
export function fieldModel(message: DescMessage): FieldModel {
  let model = models.get(message);
  if (!model) {
    const fields = message.fields.map(fieldSpec);
    model = {
      message,
      fields,
      byName: new Map(fields.map((f) => [f.name, f])),
      creatable: fields.filter((f) => f.creatable).map((f) => f.name),
    };
    models.set(message, model);
  }
  return model;
}

/** google.api.field_behavior values of a field (empty when not annotated). */
export function fieldBehaviors(field: DescField): FieldBehavior[] {
  return hasOption(field, field_behavior) ? getOption(field, field_behavior) : [];
}

function fieldSpec(desc: DescField): FieldSpec {
  const behaviors = fieldBehaviors(desc);
  const rules = hasOption(desc, fieldRulesOption) ? getOption(desc, fieldRulesOption) : undefined;
  const outputOnly = behaviors.includes(FieldBehavior.OUTPUT_ONLY);
  const immutable = behaviors.includes(FieldBehavior.IDENTIFIER) || behaviors.includes(FieldBehavior.IMMUTABLE);
  const writer = outputOnly || immutable ? FieldWriter.UNSPECIFIED : (rules?.update ?? FieldWriter.UNSPECIFIED);
  return {
    name: desc.name,
    desc,
    read: rules?.read === FieldReader.PUBLIC ? "public" : "private",
    update: writer === FieldWriter.SELF ? "self" : writer === FieldWriter.ADMIN ? "admin" : "never",
    creatable: !outputOnly && (immutable || rules?.creatable === true),
    outputOnly,
    computed: rules?.computed ?? false,
    immutable,
    required: behaviors.includes(FieldBehavior.REQUIRED),
    maxLength: rules?.maxLength ?? 0,
    multiline: rules?.multiline ?? false,
    maxEntries: rules?.maxEntries ?? 0,
    keyPattern: rules?.keyPattern ? new RegExp(rules.keyPattern) : undefined,
    format: rules?.format === TextFormat.USER_ID ? "user_id" : rules?.format === TextFormat.EMAIL ? "email" : "text",
    label: rules?.label || desc.name.replaceAll("_", " "),
  };
}

/** Who may read and change each field, by mask path: the table field masks are resolved with. */
export function maskRules(
  model: FieldModel,
): Record<string, Pick<FieldSpec, "read" | "update"> & Partial<Pick<FieldSpec, "computed">>> {
  return Object.fromEntries(
    model.fields.map((f) => [f.name, { read: f.read, update: f.update, ...(f.computed ? { computed: true } : {}) }]),
  );
}

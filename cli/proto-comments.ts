import type {
  DescEnum,
  DescEnumValue,
  DescField,
  DescFile,
  DescMessage,
  DescMethod,
  DescService,
} from "@bufbuild/protobuf";

type Described = DescMessage | DescField | DescEnum | DescEnumValue | DescService | DescMethod;

// Field numbers of FileDescriptorProto, DescriptorProto, EnumDescriptorProto
// and ServiceDescriptorProto that make up a SourceCodeInfo.Location path.
const fileMessages = 4;
const fileEnums = 5;
const fileServices = 6;
const messageFields = 2;
const messageNested = 3;
const messageEnums = 4;
const enumValues = 2;
const serviceMethods = 2;

const commentsByFile = new WeakMap<DescFile, Map<string, string>>();

function fileComments(file: DescFile): Map<string, string> {
  let comments = commentsByFile.get(file);
  if (!comments) {
    comments = new Map();
    for (const location of file.proto.sourceCodeInfo?.location ?? []) {
      if (location.leadingComments) comments.set(location.path.join("."), location.leadingComments);
    }
    commentsByFile.set(file, comments);
  }
  return comments;
}

function messagePath(desc: DescMessage): number[] {
  return desc.parent
    ? [...messagePath(desc.parent), messageNested, desc.parent.nestedMessages.indexOf(desc)]
    : [fileMessages, desc.file.messages.indexOf(desc)];
}

function sourcePath(desc: Described): { file: DescFile; path: number[] } {
  switch (desc.kind) {
    case "message":
      return { file: desc.file, path: messagePath(desc) };
    case "field":
      return {
        file: desc.parent.file,
        path: [...messagePath(desc.parent), messageFields, desc.parent.proto.field.indexOf(desc.proto)],
      };
    case "enum":
      return {
        file: desc.file,
        path: desc.parent
          ? [...messagePath(desc.parent), messageEnums, desc.parent.nestedEnums.indexOf(desc)]
          : [fileEnums, desc.file.enums.indexOf(desc)],
      };
    case "enum_value": {
      const parent = sourcePath(desc.parent);
      return { file: parent.file, path: [...parent.path, enumValues, desc.parent.values.indexOf(desc)] };
    }
    case "service":
      return { file: desc.file, path: [fileServices, desc.file.services.indexOf(desc)] };
    case "rpc":
      return {
        file: desc.parent.file,
        path: [
          fileServices,
          desc.parent.file.services.indexOf(desc.parent),
          serviceMethods,
          desc.parent.methods.indexOf(desc),
        ],
      };
  }
}

/**
 * The leading comment of a declaration in its .proto file, as paragraphs
 * (lines of one paragraph joined with spaces). Empty when the descriptors
 * were built without source info.
 */
export function commentOf(desc: Described): string[] {
  const { file, path } = sourcePath(desc);
  const raw = fileComments(file).get(path.join(".")) ?? "";
  return raw
    .split(/\n\s*\n/)
    .map((paragraph) =>
      paragraph
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .join(" "),
    )
    .filter(Boolean);
}

/** The first paragraph of the comment, for one-line listings. */
export function summaryOf(desc: Described): string {
  return commentOf(desc)[0] ?? "";
}

/** The whole comment, paragraphs separated by blank lines, for a command's own help. */
export function descriptionOf(desc: Described): string {
  return commentOf(desc).join("\n\n");
}

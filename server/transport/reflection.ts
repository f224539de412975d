import { readFileSync } from "node:fs";
import { create, createFileRegistry, type DescFile, type FileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { descriptorSetPath } from "../runtime/paths.js";

/**
 * The descriptors of every proto file, with their comments, from
 * `gen/roster.binpb` (written by `npm run generate`). Served by reflection so
 * that grpcurl and `buf curl` need no local proto files.
 */
export function loadFileRegistry(path = descriptorSetPath): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
}

/** The file and everything it imports, dependencies first, each once. */
function withDependencies(file: DescFile): DescFile[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const dep of f.dependencies) visit(dep);
    out.push(f);
  };
  visit(file);
  return out.reverse();
}

type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

/** The answer to one reflection request, in the shape both versions share. */
function answer(registry: FileRegistry, services: readonly string[], req: ReflectionRequest) {
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? {
          case: "fileDescriptorResponse" as const,
          value: {
            fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
          },
        }
      : { case: "errorResponse" as const, value: { errorCode: 5, errorMessage: `${what} not found` } };
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse" as const, value: { service: services.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(registry.getFile(r.value), `file ${r.value}`);
    case "fileContainingSymbol": {
      const symbol = r.value.replace(/^\./, "");
      let desc = registry.get(symbol);
      if (!desc) {
        // A method or field: look up its parent.
        const parent = registry.get(symbol.slice(0, symbol.lastIndexOf(".")));
        if (parent?.kind === "service" && parent.methods.some((m) => `${parent.typeName}.${m.name}` === symbol))
          desc = parent;
        if (parent?.kind === "message" && parent.fields.some((f) => `${parent.typeName}.${f.name}` === symbol))
          desc = parent;
      }
      return files(desc?.file, `symbol ${symbol}`);
    }
    case "fileContainingExtension":
      return files(undefined, `extension ${r.value.containingType}#${r.value.extensionNumber}`);
    case "allExtensionNumbersOfType": {
      const message = registry.getMessage(r.value);
      if (!message) return files(undefined, `type ${r.value}`);
      const numbers: number[] = [];
      for (const ext of registry)
        if (ext.kind === "extension" && ext.extendee.typeName === r.value) numbers.push(ext.number);
      return {
        case: "allExtensionNumbersResponse" as const,
        value: { baseTypeName: r.value, extensionNumber: numbers },
      };
    }
    default:
      return { case: "errorResponse" as const, value: { errorCode: 3, errorMessage: "empty reflection request" } };
  }
}

/** gRPC server reflection, v1 (grpcurl, buf curl, Postman). */
export function reflectionServiceV1(
  registry: FileRegistry,
  services: readonly string[],
): ServiceImpl<typeof v1.ServerReflection> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield create(v1.ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answer(registry, services, req),
        });
      }
    },
  };
}

/** gRPC server reflection, v1alpha (older clients). */
export function reflectionServiceV1alpha(
  registry: FileRegistry,
  services: readonly string[],
): ServiceImpl<typeof v1alpha.ServerReflection> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield create(v1alpha.ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answer(registry, services, req),
        });
      }
    },
  };
}

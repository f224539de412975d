import { fileURLToPath } from "node:url";

/** The project folder (compiled code runs from `<root>/dist/server/runtime`). */
export const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Descriptor set of every proto file, with comments (`npm run generate`). */
export const descriptorSetPath = fileURLToPath(new URL("../../../gen/roster.binpb", import.meta.url));

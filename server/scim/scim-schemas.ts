/**
 * What the SCIM service publishes about itself (RFC 7643 sections 5 to 7):
 * the service provider configuration, the User resource type, and the
 * schemas of exactly the attributes Roster keeps (see scim-users.ts).
 */

export const coreUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
export const enterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const listResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
export const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const serviceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const resourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const schemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/** Most users one list answer holds; more asked for is coerced (RFC 7644 section 3.4.2.4). */
export const maxResults = 1000;

interface Attribute {
  name: string;
  type: "string" | "boolean" | "complex" | "dateTime" | "reference";
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  returned: "always" | "never" | "default" | "request";
  uniqueness: "none" | "server" | "global";
  subAttributes?: Attribute[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

function attribute(name: string, description: string, options: Partial<Attribute> = {}): Attribute {
  return {
    name,
    type: "string",
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
    ...options,
  };
}

const userAttributes: Attribute[] = [
  attribute("userName", "The Roster user id; an email-shaped userName is kept and an id derived from it.", {
    required: true,
    uniqueness: "server",
    mutability: "immutable",
  }),
  attribute("name", "The user's name; Roster's name is displayName, or else formatted, or else given and family.", {
    type: "complex",
    subAttributes: [
      attribute("formatted", "The full name."),
      attribute("familyName", "The family name."),
      attribute("givenName", "The given name."),
    ],
  }),
  attribute("displayName", "Roster's name of the user."),
  // Every Roster user has a state, so active is always there (true when a
  // request leaves it out).
  attribute("active", "Whether the user is APPROVED (true) or SUSPENDED (false); true when left out.", {
    type: "boolean",
    required: true,
  }),
  attribute("password", "Write-only; checked against Roster's password policy.", {
    mutability: "writeOnly",
    returned: "never",
    caseExact: true,
  }),
  // Every Roster user has a primary email address.
  attribute("emails", "Email addresses; the primary one is Roster's primary email address.", {
    type: "complex",
    required: true,
    multiValued: true,
    subAttributes: [
      attribute("value", "The address.", { required: true }),
      attribute("type", "work, home or other.", { canonicalValues: ["work", "home", "other"] }),
      attribute("primary", "Whether this is the primary address.", { type: "boolean" }),
    ],
  }),
];

const enterpriseAttributes: Attribute[] = [
  attribute("employeeNumber", "Kept as the attribute scim_employeeNumber."),
  attribute("costCenter", "Kept as the attribute scim_costCenter."),
  attribute("organization", "Kept as the attribute scim_organization."),
  attribute("division", "Kept as the attribute scim_division."),
  attribute("department", "Kept as the attribute scim_department."),
  attribute("manager", "The user's manager, kept as the attribute scim_manager.", {
    type: "complex",
    subAttributes: [attribute("value", "The manager's id.")],
  }),
];

/** The service provider configuration (RFC 7643 section 5). */
export function serviceProviderConfig(base: string) {
  return {
    schemas: [serviceProviderConfigSchema],
    documentationUri: "https://github.com/roster/roster#scim-20-provisioning",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Roster API key",
        description: "A Roster API key holding RIGHT_SCIM, sent as `Authorization: Bearer <key>`.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

/** The User resource type (RFC 7643 section 6). */
export function userResourceType(base: string) {
  return {
    schemas: [resourceTypeSchema],
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "Roster users",
    schema: coreUserSchema,
    schemaExtensions: [{ schema: enterpriseUserSchema, required: false }],
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` },
  };
}

/** The schemas the service serves (RFC 7643 section 7), by id. */
export function schemas(base: string) {
  return [
    {
      schemas: [schemaSchema],
      id: coreUserSchema,
      name: "User",
      description: "User account",
      attributes: userAttributes,
      meta: { resourceType: "Schema", location: `${base}/Schemas/${coreUserSchema}` },
    },
    {
      schemas: [schemaSchema],
      id: enterpriseUserSchema,
      name: "EnterpriseUser",
      description: "Enterprise user",
      attributes: enterpriseAttributes,
      meta: { resourceType: "Schema", location: `${base}/Schemas/${enterpriseUserSchema}` },
    },
  ];
}

/** The names of the enterprise extension's attributes, kept as `scim_<name>` attributes. */
export const enterpriseFields = ["employeeNumber", "costCenter", "organization", "division", "department"] as const;

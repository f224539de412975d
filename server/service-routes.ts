import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Events } from "../gen/roster/v1/events_pb.js";
import { InvitationRegistry } from "../gen/roster/v1/invitation_registry_pb.js";
import { SelfService } from "../gen/roster/v1/self_service_pb.js";
import { UserAccess } from "../gen/roster/v1/user_access_pb.js";
import { UserAgreements } from "../gen/roster/v1/user_agreements_pb.js";
import { UserBulk } from "../gen/roster/v1/user_bulk_pb.js";
import { UserRegistry } from "../gen/roster/v1/user_registry_pb.js";
import { UserSettings } from "../gen/roster/v1/user_settings_pb.js";
import { Webhooks } from "../gen/roster/v1/webhooks_pb.js";
import { isCommonPassword } from "./access/common-passwords.js";
import type { LoginService } from "./access/login.js";
import type { PasswordHasher } from "./access/passwords.js";
import { userAccess } from "./access/user-access.js";
import { userAgreements } from "./agreements/user-agreements.js";
import { userBulk } from "./bulk/user-bulk.js";
import type { Config } from "./config.js";
import type { EmailQueue } from "./email/email-queue.js";
import { eventsService } from "./events/events-service.js";
import { invitationRegistry } from "./invitations/invitation-registry.js";
import type { Paginator } from "./requests/pagination.js";
import type { Logger } from "./runtime/log.js";
import type { SecretBox } from "./secrets/secret-box.js";
import { type LinkOptions, type PublicUrl, pagePaths, pageUrl } from "./self-service/links.js";
import { selfService } from "./self-service/self-service.js";
import { userSettings } from "./settings/user-settings.js";
import type { Store } from "./store/store.js";
import { type HealthStatus, healthService } from "./transport/health.js";
import { loadFileRegistry, reflectionServiceV1, reflectionServiceV1alpha } from "./transport/reflection.js";
import type { WebhookDelivery } from "./webhooks/webhook-delivery.js";
import { webhooksService } from "./webhooks/webhooks-service.js";

/** The services this server exposes, as reflection lists them. */
export const services = [
  UserRegistry,
  UserAccess,
  InvitationRegistry,
  UserSettings,
  UserAgreements,
  UserBulk,
  SelfService,
  Events,
  Webhooks,
  Health,
  reflectionV1.ServerReflection,
  reflectionV1alpha.ServerReflection,
] as const;

/** The parts the services share, made once by startServer. */
export interface ServiceParts {
  config: Config;
  store: Store;
  mail: EmailQueue;
  login: LoginService;
  hasher: PasswordHasher;
  box: SecretBox;
  webhookDelivery: WebhookDelivery;
  health: HealthStatus;
  urls: PublicUrl;
  links: LinkOptions;
  /** The paginator of the moment: its key comes from the database, once it answers. */
  readonly paginator: Paginator;
  /** The UserRegistry, which SCIM serves too. */
  users: ServiceImpl<typeof UserRegistry>;
  log: Logger;
}

/** Every service of `services` on the router, each given the parts it needs. */
export function serviceRoutes(parts: ServiceParts): (router: ConnectRouter) => void {
  const { config, store, mail, hasher, urls, links } = parts;
  const fileRegistry = loadFileRegistry();
  const serviceNames = services.map((s) => s.typeName);
  return (router) => {
    router.service(Health, healthService(parts.health));
    router.service(reflectionV1.ServerReflection, reflectionServiceV1(fileRegistry, serviceNames));
    router.service(reflectionV1alpha.ServerReflection, reflectionServiceV1alpha(fileRegistry, serviceNames));
    router.service(UserRegistry, parts.users);
    router.service(
      UserAccess,
      userAccess({
        store,
        mail,
        login: parts.login,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        defaultDeadlineMs: config.defaultDeadlineMs,
      }),
    );
    router.service(
      InvitationRegistry,
      invitationRegistry({
        store,
        mail,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        registration: config.registration,
        invitationTtlMs: config.invitationTtlMs,
        registerUrl: (token) => pageUrl(urls, pagePaths.register, token, "invitation"),
        defaultDeadlineMs: config.defaultDeadlineMs,
      }),
    );
    router.service(
      SelfService,
      selfService({
        ...links,
        hasher,
        passwordPolicy: config.passwordPolicy,
        isCommonPassword,
        registration: { mode: config.registration, approval: config.registrationApproval },
        limits: config.selfService,
        log: parts.log,
      }),
    );
    router.service(UserSettings, userSettings({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(UserAgreements, userAgreements({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(UserBulk, userBulk({ store, defaultDeadlineMs: config.defaultDeadlineMs }));
    router.service(
      Events,
      eventsService({
        store,
        get paginator() {
          return parts.paginator;
        },
      }),
    );
    router.service(
      Webhooks,
      webhooksService({ store, box: parts.box, delivery: parts.webhookDelivery, allowHttp: config.webhooks.allowHttp }),
    );
  };
}

import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import type { PublicUser } from '../../db/repositories/users';
import type { CallRules } from '../../domain/rules';
import type { UserRole } from '../../domain/roles';
import type { KeyRing } from '../../security/keyring';
import type { SessionLinks } from '../../security/links';
import type { CommandMeta } from '../../workflows/messages';
import type { ApplicationService } from '../service/applications';

/**
 * Who may call a route: anybody ('public'), the company with its code or link ('company': the credential is in
 * the request), or people with one of these roles (a bearer token, or the pages' session cookie).
 */
export type Access = 'public' | 'company' | readonly UserRole[];

/** What a route's handler works with; every route gets the same. */
export interface ApiContext {
  config: Config;
  db: Db;
  client: Client;
  ring: KeyRing;
  links: SessionLinks;
  service: ApplicationService;
  rules: (callId: string, version: number) => CallRules;
}

export interface Call<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The signed-in person; null on public and company routes. */
  user: PublicUser | null;
  /** Who the workflow and the audit trail hear: always from the credential, never from the request body. */
  meta: CommandMeta;
  req: FastifyRequest;
  reply: FastifyReply;
  api: ApiContext;
}

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** The answer's schema (OpenAPI), and its status when not 200. */
  response?: z.ZodType;
  status?: number;
  /** A file or a non-JSON answer. */
  produces?: string;
  /** A command to a workflow: Idempotency-Key and Prefer: respond-async apply, 409 when the lifecycle refuses. */
  command?: boolean;
  bodyLimit?: number;
  /** Unauthenticated routes that take a secret (codes, links) get the strict rate limit. */
  strictRateLimit?: boolean;
  handler: (call: Call<P, Q, B>) => Promise<unknown>;
}

/** Keeps each route's types (params, query, body) together while the tables hold them all as `Route`. */
export const route = <P = unknown, Q = unknown, B = unknown>(r: Route<P, Q, B>) => r as unknown as Route;

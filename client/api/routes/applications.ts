import { RulesError } from '../../../config/calls';
import { allApplications, listApplications } from '../../service/register';
import { ListFilterSchema } from '../../service/filters';
import { exportCsv } from '../../service/export';
import { parseCommand } from '../../../machines/events';
import { invalid } from '../../errors';
import { ApplicationFormSchema } from '../../../domain/application';
import { route, type Route } from '../routes';
import { sendCommand } from '../commands';
import type { PreProject } from '../../../domain/pre-project';
import { forwardedFigures, visibleView } from '../visibility';
import {
  ApplicationIdParams,
  ApplicationListSchema,
  ApplicationViewSchema,
  CommandBody,
  RegistrationSchema,
} from '../schemas';

const staff = ['operator', 'auditor', 'commission', 'consultant'] as const;

export const applicationRoutes: Route[] = [
  route({
    method: 'POST',
    url: '/applications',
    access: ['operator'],
    summary: 'Register an application (the form); answers whether the company is eligible, with every reason',
    body: ApplicationFormSchema,
    response: RegistrationSchema,
    status: 201,
    handler: async ({ api, body, meta, reply }) => {
      const registration = await api.service.apply(body, meta);
      reply.status(201);
      return { ...registration, state: registration.eligible ? 'submitted' : 'rejected' };
    },
  }),
  route({
    method: 'GET',
    url: '/applications',
    access: staff,
    summary: 'The register: applications you may read, filtered, a page at a time (`next` is the following page)',
    query: ListFilterSchema,
    response: ApplicationListSchema,
    handler: async ({ api, query, user, req }) => {
      // Consultants read their body's applications, the commission those forwarded to it: the filter says so.
      const filter = user!.role === 'consultant' ? { ...query, body: user!.body_id! } : query;
      const page = await listApplications(api.db, filter);
      if (user!.role !== 'commission') return page;
      // The commission reads what was forwarded to it, and the support the forwarded version asks for.
      const forwarded = await api.db
        .selectFrom('pre_projects')
        .innerJoin('applications', 'applications.id', 'pre_projects.application_id')
        .select(['pre_projects.application_id', 'pre_projects.content', 'applications.rules_version'])
        .where('pre_projects.forwarded_at', 'is not', null)
        .where('pre_projects.application_id', 'in', page.items.length ? page.items.map((i) => i.applicationId) : [''])
        .orderBy('pre_projects.version')
        .execute();
      const latest = new Map(forwarded.map((f) => [f.application_id, f]));
      const items = page.items.flatMap((i) => {
        const f = latest.get(i.applicationId);
        if (!f) return [];
        const content = (typeof f.content === 'string' ? JSON.parse(f.content) : f.content) as PreProject;
        try {
          const rules = api.rules(i.callId, f.rules_version);
          return [{ ...i, requestedCents: forwardedFigures(content, rules).requestedCents }];
        } catch (err) {
          // Rules a deployment lost are its operators' problem, said in the log; the list still lists.
          if (!(err instanceof RulesError)) throw err;
          req.log.error({ err, applicationId: i.applicationId }, 'rules of a listed application cannot be read');
          return [{ ...i, requestedCents: null }];
        }
      });
      return { ...page, items };
    },
  }),
  route({
    method: 'GET',
    url: '/applications.csv',
    access: ['operator', 'auditor'],
    summary: 'The register as CSV (filters as for the list; every page): no personal data beyond the company name',
    query: ListFilterSchema.omit({ limit: true, after: true }),
    produces: 'text/csv',
    handler: async ({ api, query, reply }) => {
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="registro.csv"');
      return exportCsv(await allApplications(api.db, query));
    },
  }),
  route({
    method: 'GET',
    url: '/applications/:id',
    access: staff,
    summary: 'One application: state, company, facts, documents, timeline, the commands possible now',
    params: ApplicationIdParams,
    response: ApplicationViewSchema,
    handler: async ({ api, params, user }) => visibleView(api.db, user!, params.id, api.rules),
  }),
  route({
    method: 'POST',
    url: '/applications/:id/commands',
    access: ['operator'],
    summary: 'Any command an operator may send, as JSON: its type and payload (machines/events.ts)',
    params: ApplicationIdParams,
    body: CommandBody,
    command: true,
    response: ApplicationViewSchema,
    handler: async (call) => {
      const parsed = parseCommand(call.body);
      if (!parsed.success) throw invalid('command', parsed.error, 'body');
      return sendCommand(call, call.params.id, parsed.data);
    },
  }),
];

import { ROLES, type Role } from '../../domain/roles';
import { commandPayloads, systemPayloads, type ApplicationEvent, type CommandType } from '../../machines/events';
import {
  COMMAND_TYPES,
  COMMANDS_BY_ROLE,
  PROJECT_COMMANDS_BY_ROLE,
  permissionProblem,
  projectPermissionProblem,
} from '../../machines/permissions';
import { oneCommandOfEach } from '../support/fixtures';
import { PEOPLE } from '../support/people';

const sendersOf = (type: CommandType) => ROLES.filter((r) => (COMMANDS_BY_ROLE[r] as readonly string[]).includes(type));

describe('who sends which command', () => {
  test('every command type has a sender, and COMMAND_TYPES lists each exactly once', () => {
    const types = Object.keys(commandPayloads) as CommandType[];
    expect([...COMMAND_TYPES].sort()).toEqual([...types].sort());
    expect(new Set(COMMAND_TYPES).size).toBe(COMMAND_TYPES.length);
    for (const type of types) expect([type, sendersOf(type).length > 0]).toEqual([type, true]);
  });

  test('no role sends what only the system raises; auditors and the system send no command', () => {
    const sent = Object.values(COMMANDS_BY_ROLE).flat() as string[];
    for (const type of Object.keys(systemPayloads)) expect(sent).not.toContain(type);
    expect([COMMANDS_BY_ROLE.auditor, COMMANDS_BY_ROLE.system]).toEqual([[], []]);
  });

  // DOMAIN.md, "People": these are the rules the table encodes, stated independently of it.
  test.each<[CommandType, Role[]]>([
    ['APPROVE', ['commission']],
    ['REJECT', ['commission']],
    ['REQUEST_INTEGRATION', ['commission']],
    ['DECLARE_CONFLICT', ['commission']],
    ['SUBMIT_EVALUATION', ['commission']],
    // The company confirms the consultant's sessions: a consultant confirming them would certify their own hours.
    ['CONFIRM_SESSION', ['operator', 'company']],
    ['DISPUTE_SESSION', ['operator', 'company']],
    ['RESEND_SESSION_CODE', ['operator', 'consultant']],
    ['LOG_SESSION', ['operator', 'consultant']],
    ['ASSIGN_BODY', ['operator']],
    ['FORWARD_TO_COMMISSION', ['operator']],
    ['RECORD_FUNDING', ['operator']],
    ['WITHDRAW', ['operator', 'company']],
  ])('%s is sent by %p only', (type, roles) => {
    expect(sendersOf(type)).toEqual(expect.arrayContaining(roles));
    expect(sendersOf(type)).toHaveLength(roles.length);
  });
});

describe('permissionProblem', () => {
  const member = PEOPLE.members[0].actor;
  const other = PEOPLE.members[1].actor;
  const chair = PEOPLE.chair.actor;
  /** The person a command speaks for, else the role's own person: who may send it. */
  const actorFor = (role: Role, event: ApplicationEvent) =>
    'member' in event ? event.member : 'chair' in event ? event.chair : `${role}-actor`;

  test.each(ROLES.flatMap((role) => Object.values(oneCommandOfEach).map((e) => [role, e.type, e] as const)))(
    '%s sending %s: allowed exactly when the table says so',
    (role, type, event) => {
      const problem = permissionProblem(role, actorFor(role, event), event);
      if ((COMMANDS_BY_ROLE[role] as readonly string[]).includes(type)) expect(problem).toBeNull();
      else expect(problem).toBe(`${type} is not a command the role ${role} can send`);
    },
  );

  test('a member speaks only for themselves', () => {
    const declare = { type: 'DECLARE_CONFLICT', member, conflicted: true } as const;
    expect(permissionProblem('commission', member, declare)).toBeNull();
    expect(permissionProblem('commission', other, declare)).toBe(
      'DECLARE_CONFLICT can only be sent by the member it names',
    );
    const evaluation = { ...oneCommandOfEach.SUBMIT_EVALUATION, member };
    expect(permissionProblem('commission', other, evaluation)).toBe(
      'SUBMIT_EVALUATION can only be sent by the member it names',
    );
  });

  test.each(['APPROVE', 'REJECT', 'REQUEST_INTEGRATION'] as const)('%s is sent by the chair it names', (type) => {
    const decision = { ...oneCommandOfEach[type], chair };
    expect(permissionProblem('commission', chair, decision)).toBeNull();
    expect(permissionProblem('commission', member, decision)).toBe(`${type} can only be sent by the chair it names`);
  });

  test('commands that speak for nobody do not care who, within the role, sends them', () => {
    expect(permissionProblem('operator', PEOPLE.operator.actor, oneCommandOfEach.ASSIGN_BODY)).toBeNull();
    expect(permissionProblem('operator', 'another operator', oneCommandOfEach.ASSIGN_BODY)).toBeNull();
  });

  // The role comes from a payload: a forged one must be refused, never crash the handler (and wedge the workflow).
  test.each(['admin', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '', undefined, null, 42])(
    'an unknown role %p is refused, not a TypeError',
    (role) => {
      const event = oneCommandOfEach.WITHDRAW;
      expect(permissionProblem(role as Role, 'x', event)).toBe(`WITHDRAW is not a command the role ${role} can send`);
      expect(projectPermissionProblem(role as Role, { type: 'WITHDRAW' })).toBe(
        `WITHDRAW is not a project command the role ${role} can send`,
      );
    },
  );

  test("the funded project's table has no command for auditors, the system or the commission", () => {
    const { auditor, system, commission } = PROJECT_COMMANDS_BY_ROLE;
    expect([auditor, system, commission]).toEqual([[], [], []]);
  });
});

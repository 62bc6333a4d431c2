/**
 * The state machine definition exactly as deployed, taken out of a synthesized
 * template: the `DefinitionString` `Fn::Join` is resolved, each Lambda
 * `Fn::GetAtt [LogicalId, Arn]` becomes a stable placeholder ARN
 * (`arn:aws:lambda:us-east-1:000000000000:function:<LogicalId>`), and every Task
 * is listed with what runs it, so the local runner can execute this very
 * definition with aws-local-stepfunctions, each Lambda task mapped to the
 * in-process handler named by the function's `S3_REWIND_HANDLER` variable.
 */
import { HANDLER_ENV } from './restore-function.ts';

export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '000000000000', urlSuffix: 'amazonaws.com' } as const;

/** A CloudFormation template, as synthesized (only what is read here). */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>>;
}

/** An Amazon States Language state (the fields this module reads; the rest pass through). */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Choices?: ReadonlyArray<{ readonly Next?: string } & Record<string, unknown>>;
  readonly Catch?: ReadonlyArray<{ readonly ErrorEquals: string[]; readonly Next: string; readonly ResultPath?: string | null }>;
  readonly ItemProcessor?: AslStateMachine & { readonly ProcessorConfig?: Record<string, unknown> };
  readonly Iterator?: AslStateMachine;
  readonly Branches?: readonly AslStateMachine[];
  readonly [field: string]: unknown;
}

export interface AslStateMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly [field: string]: unknown;
}

export interface LambdaTask {
  /** The Task state's name (unique across the definition, Map item processors included). */
  readonly stateName: string;
  /** Logical id of the `AWS::Lambda::Function` it invokes. */
  readonly logicalId: string;
  /** The placeholder ARN in the rendered definition (`Parameters.FunctionName`). */
  readonly functionArn: string;
  /** The handler the function runs (`lambdas/<handler>/handler.ts`). */
  readonly handler: string;
}

export interface RenderedDefinition {
  /** Logical id of the state machine the definition is of. */
  readonly stateMachineLogicalId: string;
  /** The ASL definition, every reference resolved to a placeholder. */
  readonly definition: AslStateMachine;
  /** Lambda function logical id → handler name, for every function of the template that names one. */
  readonly handlers: Readonly<Record<string, string>>;
  /** Every `lambda:invoke` Task, with the handler it runs. */
  readonly lambdaTasks: readonly LambdaTask[];
  /** Every `events:putEvents` Task, by state name. */
  readonly eventTasks: readonly string[];
}

/** The placeholder ARN a Lambda function's `Fn::GetAtt [LogicalId, Arn]` becomes. */
export const placeholderFunctionArn = (logicalId: string): string =>
  `arn:${PLACEHOLDER.partition}:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:${logicalId}`;

const SERVICE_OF_TYPE: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'lambda',
  'AWS::Events::EventBus': 'events',
  'AWS::S3::Bucket': 's3',
  'AWS::SQS::Queue': 'sqs',
  'AWS::StepFunctions::StateMachine': 'states',
};

/**
 * Extracts the state machine definition from `template` (the only state machine,
 * or the one with `stateMachineLogicalId`) and lists its tasks.
 */
export function renderDefinition(template: CfnTemplate, stateMachineLogicalId?: string): RenderedDefinition {
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const found = stateMachineLogicalId ? machines.find(([id]) => id === stateMachineLogicalId) : machines[0];
  if (!found || (!stateMachineLogicalId && machines.length !== 1)) {
    throw new Error(
      stateMachineLogicalId
        ? `the template has no state machine "${stateMachineLogicalId}"`
        : `the template has ${machines.length} state machines; name the one to render`,
    );
  }
  const [logicalId, machine] = found;
  const raw = machine.Properties?.DefinitionString ?? machine.Properties?.Definition;
  if (raw === undefined) throw new Error(`state machine "${logicalId}" has no DefinitionString`);
  const resolved = typeof raw === 'object' && raw !== null && !('Fn::Join' in raw) ? raw : resolveValue(raw, template);
  const definition = (typeof resolved === 'string' ? JSON.parse(resolved) : resolved) as AslStateMachine;

  const handlers: Record<string, string> = {};
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    const handler = variables?.[HANDLER_ENV];
    if (typeof handler === 'string') handlers[id] = handler;
  }

  const lambdaTasks: LambdaTask[] = [];
  const eventTasks: string[] = [];
  forEachState(definition, (stateName, state) => {
    if (state.Type !== 'Task' || typeof state.Resource !== 'string') return;
    if (/:states:::lambda:invoke(\.waitForTaskToken)?$/.test(state.Resource) || /:lambda:[^:]+:\d+:function:/.test(state.Resource)) {
      const target = state.Resource.includes(':function:') ? state.Resource : state.Parameters?.FunctionName;
      const functionArn = typeof target === 'string' ? target : JSON.stringify(target ?? '');
      const id = functionArn.split(':function:')[1]?.split(':')[0] ?? '';
      const handler = handlers[id];
      if (!handler) throw new Error(`task "${stateName}" invokes "${functionArn}", which names no ${HANDLER_ENV}`);
      lambdaTasks.push({ stateName, logicalId: id, functionArn, handler });
    } else if (/:states:::events:putEvents$/.test(state.Resource)) {
      eventTasks.push(stateName);
    }
  });

  return { stateMachineLogicalId: logicalId, definition, handlers, lambdaTasks, eventTasks };
}

/** Calls `visit` for every state, those inside Map item processors and Parallel branches included. */
export function forEachState(machine: AslStateMachine, visit: (name: string, state: AslState, machine: AslStateMachine) => void): void {
  for (const [name, state] of Object.entries(machine.States ?? {})) {
    visit(name, state, machine);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) forEachState(inner, visit);
    for (const branch of state.Branches ?? []) forEachState(branch, visit);
  }
}

/**
 * Structural checks of an ASL definition: StartAt and every Next, Default,
 * Choice and Catch target exist in the same (sub-)machine, every non-terminal
 * state goes somewhere, every state is reachable, state names are unique across
 * the definition, Map states have a valid item processor. Returns the problems found.
 */
export function checkDefinition(machine: AslStateMachine, where = 'definition'): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  forEachState(machine, (name) => {
    if (names.has(name)) problems.push(`state name "${name}" is used twice`);
    names.add(name);
  });
  checkMachine(machine, where, problems);
  return problems;
}

const TERMINAL = new Set(['Succeed', 'Fail']);

function checkMachine(machine: AslStateMachine, where: string, problems: string[]): void {
  const states = machine.States ?? {};
  const exists = (target: unknown) => typeof target === 'string' && target in states;
  if (!exists(machine.StartAt)) problems.push(`${where}: StartAt "${String(machine.StartAt)}" is not a state`);

  const edges = new Map<string, string[]>();
  for (const [name, state] of Object.entries(states)) {
    const targets: string[] = [];
    const to = (target: unknown, what: string) => {
      if (exists(target)) targets.push(target as string);
      else problems.push(`${where}: "${name}" ${what} "${String(target)}" is not a state`);
    };
    if (state.Type === 'Choice') {
      if (!state.Choices?.length) problems.push(`${where}: Choice "${name}" has no Choices`);
      for (const choice of state.Choices ?? []) to(choice.Next, 'Choice Next');
      if (state.Default !== undefined) to(state.Default, 'Default');
      if (state.Next !== undefined || state.End !== undefined) problems.push(`${where}: Choice "${name}" may not have Next or End`);
    } else if (TERMINAL.has(state.Type)) {
      if (state.Next !== undefined || state.End !== undefined) problems.push(`${where}: ${state.Type} "${name}" may not have Next or End`);
    } else if (state.Next !== undefined) {
      if (state.End) problems.push(`${where}: "${name}" has both Next and End`);
      to(state.Next, 'Next');
    } else if (state.End !== true) {
      problems.push(`${where}: "${name}" has neither Next nor End`);
    }
    for (const catcher of state.Catch ?? []) to(catcher.Next, 'Catch Next');
    if (state.Type === 'Map') {
      const inner = state.ItemProcessor ?? state.Iterator;
      if (!inner) problems.push(`${where}: Map "${name}" has no ItemProcessor`);
      else checkMachine(inner, `${where} > Map "${name}"`, problems);
    }
    for (const [i, branch] of (state.Branches ?? []).entries()) checkMachine(branch, `${where} > Parallel "${name}"[${i}]`, problems);
    edges.set(name, targets);
  }

  const reached = new Set<string>();
  const queue = exists(machine.StartAt) ? [machine.StartAt] : [];
  while (queue.length) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    queue.push(...(edges.get(name) ?? []));
  }
  for (const name of Object.keys(states)) if (!reached.has(name)) problems.push(`${where}: "${name}" is unreachable`);
}

function resolveValue(value: unknown, template: CfnTemplate): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, template));
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(resolveValue(part, template))).join(delimiter);
  }
  if ('Ref' in node) return resolveRef(String(node.Ref), template);
  if ('Fn::GetAtt' in node) {
    const [id, attribute] = node['Fn::GetAtt'] as [string, string];
    return resolveGetAtt(id, attribute, template);
  }
  throw new Error(`can't resolve ${JSON.stringify(value)} in the definition`);
}

function resolveRef(name: string, template: CfnTemplate): string {
  switch (name) {
    case 'AWS::Partition':
      return PLACEHOLDER.partition;
    case 'AWS::Region':
      return PLACEHOLDER.region;
    case 'AWS::AccountId':
      return PLACEHOLDER.account;
    case 'AWS::URLSuffix':
      return PLACEHOLDER.urlSuffix;
  }
  const resource = template.Resources?.[name];
  if (!resource) throw new Error(`the definition refers to "${name}", which is not in the template`);
  // Ref of a function, bucket or bus is its name; of a state machine or queue, its ARN / URL: the logical id stands in.
  return name;
}

function resolveGetAtt(id: string, attribute: string, template: CfnTemplate): string {
  const resource = template.Resources?.[id];
  if (!resource) throw new Error(`the definition refers to "${id}", which is not in the template`);
  if (attribute !== 'Arn') return id;
  if (resource.Type === 'AWS::Lambda::Function') return placeholderFunctionArn(id);
  const service = SERVICE_OF_TYPE[resource.Type] ?? resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
  return `arn:${PLACEHOLDER.partition}:${service}:${PLACEHOLDER.region}:${PLACEHOLDER.account}:${id}`;
}

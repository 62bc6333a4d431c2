/**
 * Step Functions for the tests of the code that starts and follows restores (the
 * API, the CLI's deployed runner). There is no Step Functions here, so SFNClient
 * is mocked with aws-sdk-client-mock, the same way in every such file: the mock
 * for the file's tests (reset before each) or for one test, the errors Step
 * Functions answers, what was started and described, and a small in-memory fake
 * of a state machine's executions by name for the tests of runs started again.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export interface StepFunctionsMock {
  /** The stub: say what each command answers (`mock.on(StartExecutionCommand).resolves(...)`). */
  readonly mock: AwsClientStub<SFNClient>;
  /** A client to hand the code under test: every SFNClient is mocked while the mock is on. */
  readonly client: SFNClient;
  /** The names StartExecution was called with, in order. */
  readonly startedNames: () => Array<string | undefined>;
  /** The execution names DescribeExecution was called with, in order. */
  readonly describedNames: () => string[];
  /** The input of the `index`th StartExecution, parsed. */
  readonly sentInput: (index: number) => unknown;
}

/** The ARN of execution `name` of a state machine. */
export const executionArnOf = (stateMachineArn: string, name: string): string => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** The name at the end of an execution ARN. */
export const executionNameOf = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/** StartExecution of a name taken already. */
export const executionAlreadyExists = (message = 'Execution Already Exists'): ExecutionAlreadyExists => new ExecutionAlreadyExists({ message, $metadata: {} });

/** DescribeExecution of a name no execution has. */
export const executionDoesNotExist = (message = 'Execution Does Not Exist'): ExecutionDoesNotExist => new ExecutionDoesNotExist({ message, $metadata: {} });

function stepFunctionsMockOf(mock: AwsClientStub<SFNClient>): StepFunctionsMock {
  return {
    mock,
    client: new SFNClient({ region: 'eu-west-1' }),
    startedNames: () => mock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name),
    describedNames: () => mock.commandCalls(DescribeExecutionCommand).map((call) => executionNameOf(call.args[0].input.executionArn ?? '')),
    sentInput: (index) => {
      const call = mock.commandCalls(StartExecutionCommand)[index];
      if (!call) throw new Error(`no StartExecution number ${index}`);
      return JSON.parse(call.args[0].input.input ?? '') as unknown;
    },
  };
}

/** SFNClient mocked for every test of the file: reset (no answers, no calls) before each test, restored after the file's tests. */
export function mockStepFunctions(): StepFunctionsMock {
  const mock = mockClient(SFNClient);
  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());
  return stepFunctionsMockOf(mock);
}

/** SFNClient mocked while `use` runs (in one test), restored after. */
export async function withMockedStepFunctions<T>(use: (sfn: StepFunctionsMock) => Promise<T>): Promise<T> {
  const mock = mockClient(SFNClient);
  try {
    return await use(stepFunctionsMockOf(mock));
  } finally {
    mock.restore();
  }
}

/** What DescribeExecution adds to an execution's ARN and status. */
type DescribedFields = Omit<Partial<DescribeExecutionCommandOutput>, 'executionArn' | 'status' | '$metadata'>;

export interface ExecutionsFakeOptions {
  readonly stateMachineArn: string;
  /** What DescribeExecution says of an execution besides its ARN and status. @default nothing */
  readonly described?: (name: string, status: ExecutionStatus) => DescribedFields;
  /** An execution started by the code under test that is described RUNNING is SUCCEEDED from then on (a run followed to its end). @default false */
  readonly startedRunsEnd?: boolean;
}

export interface ExecutionsFake {
  /** The executions Step Functions has, by name: set one to make it exist (empty before each test). */
  readonly executions: Map<string, ExecutionStatus>;
  /** The status of an execution the code under test starts ('RUNNING' before each test). */
  startsAs: ExecutionStatus;
}

/**
 * Step Functions as a small in-memory fake over the file's mock, installed
 * before each test: StartExecution of a taken name is ExecutionAlreadyExists,
 * else the execution exists from then on with status `startsAs`;
 * DescribeExecution of a free name is ExecutionDoesNotExist. A test may still
 * override an answer with `sfn.mock.on(...)`.
 */
export function fakeExecutions(sfn: StepFunctionsMock, options: ExecutionsFakeOptions): ExecutionsFake {
  const fake: ExecutionsFake = { executions: new Map(), startsAs: 'RUNNING' };
  beforeEach(() => {
    fake.executions.clear();
    fake.startsAs = 'RUNNING';
    sfn.mock.on(StartExecutionCommand).callsFake((input: { name: string }): Promise<Partial<StartExecutionCommandOutput>> => {
      if (fake.executions.has(input.name)) return Promise.reject(executionAlreadyExists());
      fake.executions.set(input.name, fake.startsAs);
      return Promise.resolve({ executionArn: executionArnOf(options.stateMachineArn, input.name), startDate: new Date() });
    });
    sfn.mock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }): Promise<Partial<DescribeExecutionCommandOutput>> => {
      const name = executionNameOf(input.executionArn);
      const status = fake.executions.get(name);
      if (!status) return Promise.reject(executionDoesNotExist());
      if (options.startedRunsEnd && status === 'RUNNING' && sfn.startedNames().includes(name)) fake.executions.set(name, 'SUCCEEDED');
      return Promise.resolve({ executionArn: input.executionArn, status, ...options.described?.(name, status) });
    });
  });
  return fake;
}

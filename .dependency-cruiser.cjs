/**
 * The layers of s3-rewind, as rules that fail the build (`npm run lint`).
 *
 * Data flows request → key source → planner → write target → report; the core
 * is laid out the same way, each folder importing only the folders below it:
 *
 *   lambdas/core/restore/           the restore's meaning: pure, synchronous, no AWS SDK
 *   lambdas/core/s3/                S3 access: client, listing in S3's order, copies, deletes, checks
 *   lambdas/core/work-store/        the work bucket: plans, outcomes, reports
 *   lambdas/core/sources/           where keys come from: a prefix listing or a manifest
 *   lambdas/core/targets/           where writes go: in place, or another bucket
 *   lambdas/core/steps/             the state machine's steps, composing a source, the planner and a target
 *   lambdas/core/batch-operations/  the S3 Batch Operations engine
 *
 * Over the core: Lambda handlers (lambdas/<name>/, sharing lambdas/commons/),
 * the CLI (cli/), the stack (lib/, bin/), the benchmark (bench/) and scripts.
 */
const core = '^lambdas/core/';
const layers = ['restore', 's3', 'work-store', 'sources', 'targets', 'steps', 'batch-operations'];
/** Folders a layer may import: itself and those listed before it (sources and targets are siblings). */
const allowed = {
  restore: ['restore'],
  s3: ['restore', 's3'],
  'work-store': ['restore', 's3', 'work-store'],
  sources: ['restore', 's3', 'work-store', 'sources'],
  targets: ['restore', 's3', 'work-store', 'targets'],
  steps: ['restore', 's3', 'work-store', 'sources', 'targets', 'steps'],
  'batch-operations': layers,
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module that imports itself through others cannot be read, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    ...layers.map((layer) => ({
      name: `core-${layer}-imports-down-only`,
      severity: 'error',
      comment: `lambdas/core/${layer}/ may import only ${allowed[layer].join(', ')}: imports point one way, from the steps down to the restore's meaning.`,
      from: { path: `${core}${layer}/` },
      to: { path: core, pathNot: allowed[layer].map((l) => `${core}${l}/`) },
    })),
    {
      name: 'restore-meaning-is-pure',
      severity: 'error',
      comment: 'The restore meaning (request, model, planner, errors) is pure and synchronous: no AWS SDK, no I/O.',
      from: { path: `${core}restore/` },
      to: { path: ['@aws-sdk', '@smithy', '^node:(fs|net|http|https|child_process|stream)'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-knows-no-framework',
      severity: 'error',
      comment: 'The core restore logic imports no AWS framework (Lambda, middy, Powertools, CDK): handlers wrap it.',
      from: { path: core },
      to: { path: ['@middy', '@aws-lambda-powertools', 'aws-cdk-lib', 'constructs', '^aws-lambda$'] },
    },
    {
      name: 'core-stays-below',
      severity: 'error',
      comment: 'The core is used by handlers, the CLI and the stack, and uses none of them.',
      from: { path: core },
      to: { path: '^(lambdas/(?!core/)|lib/|cli/|bin/|bench/|scripts/|test/)' },
    },
    {
      name: 'handlers-over-core-and-commons',
      severity: 'error',
      comment: 'A Lambda handler is a few lines over the core: it imports only the core, lambdas/commons and its own folder.',
      from: { path: '^lambdas/([^/]+)/', pathNot: '^lambdas/(core|commons)/' },
      to: { path: '^lambdas/', pathNot: ['^lambdas/core/', '^lambdas/commons/', '^lambdas/$1/'] },
    },
    {
      name: 'commons-over-core-only',
      severity: 'error',
      comment: 'lambdas/commons is shared by handlers and imports only the core.',
      from: { path: '^lambdas/commons/' },
      to: { path: '^lambdas/', pathNot: ['^lambdas/core/', '^lambdas/commons/'] },
    },
    {
      name: 'lambdas-not-to-lib-or-cli',
      severity: 'error',
      comment: 'What runs in Lambda never imports the stack or the CLI.',
      from: { path: '^lambdas/' },
      to: { path: '^(lib|cli|bin|bench|scripts)/' },
    },
    {
      name: 'lib-not-to-cli',
      severity: 'error',
      comment: 'The stack is deployed without the CLI; the CLI runs the stack’s definition, not the other way round.',
      from: { path: '^(lib|bin/app\\.ts)' },
      to: { path: '^(cli|bench|scripts)/' },
    },
    {
      name: 'no-dep-on-test',
      severity: 'error',
      comment: 'Shipped code never imports tests or their fixtures (the benchmark, not shipped, runs the fault proxy).',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'Code bundled into a Lambda must not need a devDependency at run time.',
      from: { path: '^lambdas/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing fails at run time.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|\\.local-s3)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

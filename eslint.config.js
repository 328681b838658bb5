import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers of src/, lowest first: a folder imports only from folders of lower layers (and itself).
 * Folder names are unique, so a relative import naming a folder names that layer.
 */
const LAYERS = [
  ['core'],
  ['telemetry', 'formats'],
  ['state', 'aws'],
  ['outputs', 'services'],
  ['config'],
  ['runtime'],
  ['cli'],
];
const ALL = LAYERS.flat();

const restrict = (files, patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});
const folders = (names) => `(?:${names.join('|')})`;
const OUTSIDE_SRC = {
  regex: '^(?:\\.\\./)+(?:sandbox|test|bench)/',
  message: 'src/ never imports sandbox/, test/ or bench/.',
};

const layerRules = LAYERS.flatMap((layer, i) => {
  const higher = ALL.filter((f) => !LAYERS.slice(0, i).flat().includes(f));
  return layer.map((folder) =>
    restrict(
      [`src/${folder}/**/*.ts`],
      [
        OUTSIDE_SRC,
        {
          regex: `^(?:\\.\\./)+${folders(higher.filter((f) => f !== folder))}/`,
          message: `src/${folder}/ imports only from lower layers (${LAYERS.slice(0, i).flat().join(', ') || 'none'}): see docs/design.md, "Layers".`,
        },
        ...(folder === 'core'
          ? [
              {
                regex: '^\\.\\./',
                message: 'src/core/ is the bottom layer: it imports nothing else of src/.',
              },
            ]
          : []),
      ],
    ),
  );
});

/** A service folder imports shared/ and definition.ts, never another service (nor the registry built from them). */
const serviceRules = [
  restrict(
    ['src/services/*/**/*.ts'],
    [
      OUTSIDE_SRC,
      {
        regex: `^(?:\\.\\./)+${folders(ALL.filter((f) => !['core', 'telemetry', 'formats', 'state', 'aws'].includes(f)))}/`,
        message: 'services import only core, telemetry, formats, state and aws.',
      },
      {
        regex: '^\\.\\./(?!shared/)[^./][^/]*/',
        message:
          'A service folder imports no other service folder: put what services share in services/shared/.',
      },
      {
        regex: '^\\.\\./(?:registry|plans)\\.js$',
        message: 'The registry imports the services, not the other way round.',
      },
    ],
  ),
  restrict(
    ['src/services/shared/*.ts'],
    [
      OUTSIDE_SRC,
      {
        regex: '^\\.\\./(?!definition\\.js$)[^./][^/]*',
        message: 'services/shared/ imports no service folder, registry or plan.',
      },
      {
        regex: `^(?:\\.\\./)+${folders(['outputs', 'config', 'runtime', 'cli'])}/`,
        message: 'services import only core, telemetry, formats, state and aws.',
      },
    ],
  ),
  restrict(
    ['src/services/shared/*/**/*.ts'],
    [
      OUTSIDE_SRC,
      {
        regex: '^\\.\\./\\.\\./(?!definition\\.js$)[^./][^/]*',
        message: 'services/shared/ imports no service folder, registry or plan.',
      },
      {
        regex: `^(?:\\.\\./)+${folders(['outputs', 'config', 'runtime', 'cli'])}/`,
        message: 'services import only core, telemetry, formats, state and aws.',
      },
    ],
  ),
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  ...serviceRules,
);

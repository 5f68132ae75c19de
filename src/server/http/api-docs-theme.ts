/**
 * Swagger UI at /api/docs, made to pass axe-core's serious and critical rules: no top bar (its logo has no text
 * alternative and its URL box no label), no deep-link anchors inside the operation buttons (nested interactive
 * controls), and colors with at least 4.5:1 contrast for the method badges, versions and links.
 */
export const API_DOCS_UI_CONFIG = { layout: 'BaseLayout', deepLinking: false } as const;

const METHOD_COLORS: Record<string, string> = {
  get: '#0b5cad',
  post: '#17693f',
  put: '#8a4b00',
  patch: '#0b6e5a',
  delete: '#b3261e',
  head: '#6a2a9a',
  options: '#174a7a',
};

export const API_DOCS_CSS = [
  'body { margin: 0; }',
  '.swagger-ui .wrapper { padding: 0 16px; box-sizing: border-box; max-width: 100%; }',
  ...Object.entries(METHOD_COLORS).flatMap(([method, color]) => [
    `.swagger-ui .opblock.opblock-${method} .opblock-summary-method { background: ${color}; color: #fff; }`,
    `.swagger-ui .opblock.opblock-${method} .tab-header .tab-item.active h4 span:after { background: ${color}; }`,
    `.swagger-ui .opblock.opblock-${method} { border-color: ${color}; }`,
  ]),
  '.swagger-ui .info .title small, .swagger-ui .info .title small pre { background: #4a505a; color: #fff; }',
  '.swagger-ui .info .title small.version-stamp, .swagger-ui .info .title small.version-stamp pre { background: #3d6b00; color: #fff; }',
  '.swagger-ui .info a, .swagger-ui .info .url, .swagger-ui a.nostyle, .swagger-ui .info .link { color: #0b5cad; }',
  '.swagger-ui .btn.authorize { color: #17693f; border-color: #17693f; }',
  '.swagger-ui .btn.authorize span { color: #17693f; }',
  '.swagger-ui .btn.authorize svg { fill: #17693f; }',
  '.swagger-ui .opblock-summary-path, .swagger-ui .opblock-summary-description { color: #1b1f27; }',
  '.swagger-ui .opblock .opblock-summary-path__deprecated { color: #4a505a; }',
  '.swagger-ui .parameter__in, .swagger-ui .parameter__type, .swagger-ui .prop-format, .swagger-ui .response-col_links { color: #4a505a; }',
  '.swagger-ui .parameter__name.required span, .swagger-ui .parameter__name.required:after { color: #b3261e; }',
  '.swagger-ui .tab li, .swagger-ui .opblock-tag small { color: #1b1f27; }',
  '.swagger-ui .model-toggle:after { opacity: 1; }',
  '.swagger-ui .btn { color: #1b1f27; }',
  '.swagger-ui .prop-type { color: #4b2a8a; }',
  '.swagger-ui .response-control-media-type__accept-message { color: #17693f; }',
].join('\n');

const BLOCKED = /^(agent-squad|@langchain\/[^/]+|@openai\/agents-core|ai)(\/|$)/;

export async function resolve(specifier, context, next) {
  if (BLOCKED.test(specifier)) {
    const error = new Error(`Cannot find package '${specifier}' (blocked by test/helpers/block-frameworks.mjs)`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}

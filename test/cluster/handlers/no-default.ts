// Test handler module without a default export: listen() must refuse it.
export const handler = (): void => {};

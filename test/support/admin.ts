/** The admin token the workers test project's bindings carry (vitest.config.ts). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

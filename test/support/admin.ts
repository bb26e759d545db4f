/** The admin token the workers test project's bindings carry (vitest.config.ts). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/** Events per minute the workers project's rate limiters allow (production: 10,000 and 200,000). */
export const TEST_RATE_LIMITS = { ip: 200, property: 500 } as const;

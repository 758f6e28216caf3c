import { ConfigError, createLogger, gracefulShutdown, loadConfig } from '@inv/platform';
import { buildDashboardServer } from './app.js';
import { DashboardConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadConfig(DashboardConfig);
  const logger = createLogger('dashboard', config.LOG_LEVEL);
  const app = await buildDashboardServer(config, logger);
  await app.listen({ host: config.HOST, port: config.PORT });
  logger.info(`dashboard at http://${config.HOST}:${config.PORT}`);
  gracefulShutdown(logger, 5_000, [{ name: 'http', run: () => app.close() }]);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

import { runServiceMain } from '@inv/platform';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './gateway.js';

runServiceMain('gateway', loadGatewayConfig, (config, logger) => startGateway(config, { logger }));

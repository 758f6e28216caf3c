export { connectionLimits, GatewayConfig, loadGatewayConfig } from './config.js';
export { type Gateway, type StartGatewayOptions, startGateway } from './gateway.js';

# One image for every service; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY tools ./tools
COPY infra ./infra
COPY bench ./bench
COPY tsconfig.base.json tsconfig.json ./
RUN npm ci --no-audit --no-fund && npm run build && npm run build -w @inv/dashboard --if-present

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
CMD ["node", "infra/dist/setup.js"]

# Production image: the collector only (the sandbox ships too, for `demo`, but is never loaded by `run`).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY sandbox ./sandbox
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Configuration and certificates are mounted at /etc/devo-aws-collector; state lives in /var/lib/devo-aws-collector.
RUN mkdir -p /etc/devo-aws-collector /var/lib/devo-aws-collector && chown node:node /var/lib/devo-aws-collector
USER node
WORKDIR /var/lib/devo-aws-collector
VOLUME ["/var/lib/devo-aws-collector"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/devo-aws-collector/collector.yaml"]

# syntax=docker/dockerfile:1
# Build: compile TypeScript and the SQLite binding, then keep production dependencies only.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json rolldown.config.mjs ./
COPY cmd ./cmd
COPY src ./src
COPY scripts ./scripts
COPY tests/sim ./tests/sim
COPY tests/fixtures/packs/zip-writer.ts tests/fixtures/packs/write.ts tests/fixtures/packs/generate.ts tests/fixtures/packs/hostile.ts ./tests/fixtures/packs/
RUN npm run build && npm prune --omit=dev

# Runtime: slim image, non-root user, state on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RELAY_DB_PATH=/data/relay.db \
    RELAY_LISTEN=0.0.0.0:8080
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY packs ./packs
RUN ln -s /app/dist/bin/relay.mjs /usr/local/bin/relay \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "/app/dist/bin/relay.mjs"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# Node 24 is the active LTS line (Node 20 left support on 2026-04-30); the code also runs on 20.19+.
# Build: compile TypeScript, bundle the CLI, build the SQLite binding, keep production dependencies.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json rolldown.config.mjs ./
COPY cmd ./cmd
COPY src ./src
COPY web ./web
COPY scripts ./scripts
COPY tests/sim ./tests/sim
COPY tests/helpers ./tests/helpers
COPY tests/contract/ledger-rows.ts ./tests/contract/
COPY tests/fixtures/packs/zip-writer.ts tests/fixtures/packs/write.ts tests/fixtures/packs/generate.ts tests/fixtures/packs/hostile.ts ./tests/fixtures/packs/
RUN npm run build && npm prune --omit=dev

# Runtime: slim image, non-root user, state on a volume. Only the bundled CLI (dist/bin), the
# board's static files (dist/web), the migrations, the shipped packs and the production
# dependencies: no tests, simulator or scripts.
FROM node:24-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="sub2api-cn-relay-manager" \
      org.opencontainers.image.description="Control plane that provisions Chinese model providers into a sub2api deployment, proves access and reconciles drift" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production \
    RELAY_DB_PATH=/data/relay.db \
    RELAY_LISTEN=0.0.0.0:8080
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/bin ./dist/bin
COPY --from=build /app/dist/web ./dist/web
COPY migrations ./migrations
COPY packs ./packs
RUN ln -s /app/dist/bin/relay.mjs /usr/local/bin/relay \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# The health check asks the port RELAY_LISTEN names, whatever it is set to.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "const l=process.env.RELAY_LISTEN||'0.0.0.0:8080';fetch('http://127.0.0.1:'+l.slice(l.lastIndexOf(':')+1)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "/app/dist/bin/relay.mjs"]
CMD ["serve"]

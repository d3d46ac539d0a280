import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { projectRoot } from "../../src/util/paths.js";

const root = projectRoot();
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const stages = dockerfile.split(/^FROM /m).slice(1);

describe("Dockerfile", () => {
  it("copies only paths that exist in the repository (build stage) and in the build output (runtime)", () => {
    const [build, runtime] = stages;
    for (const line of (build ?? "")
      .split("\n")
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from"))) {
      const parts = line
        .replace(/^COPY /, "")
        .split(/\s+/)
        .filter(Boolean);
      for (const src of parts.slice(0, -1)) expect(existsSync(join(root, src)), `${src} exists`).toBe(true);
    }
    for (const line of (runtime ?? "").split("\n").filter((l) => l.startsWith("COPY "))) {
      const parts = line
        .replace(/^COPY (--from=\w+ )?/, "")
        .split(/\s+/)
        .filter(Boolean);
      for (const src of parts.slice(0, -1)) {
        const local = src.replace(/^\/app\//, "");
        // node_modules comes from `npm ci` in the build stage; everything else must be here after `npm run build`.
        if (local === "node_modules") continue;
        expect(existsSync(join(root, local)), `${local} exists after the build`).toBe(true);
      }
    }
  });

  it("runs the built CLI as a non-root user with a health check and a data volume", () => {
    const runtime = stages[1] ?? "";
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/healthz/m);
    const entry = /^ENTRYPOINT \["node", "\/app\/(.+)"\]$/m.exec(runtime)?.[1];
    expect(entry).toBe("dist/bin/relay.mjs");
    expect(existsSync(join(root, entry as string))).toBe(true);
    expect(runtime).toMatch(/ln -s \/app\/dist\/bin\/relay\.mjs \/usr\/local\/bin\/relay/);
    expect(
      readFileSync(join(root, "dist", "bin", "relay.mjs"), "utf8").startsWith("#!/usr/bin/env node"),
    ).toBe(true);
  });

  it("packaging: a current LTS base, a health check that follows RELAY_LISTEN, no tests or scripts at runtime", async () => {
    const runtime = stages[1] ?? "";
    for (const stage of stages) expect(stage).toMatch(/^node:(2[4-9]|[3-9]\d)-bookworm/);
    expect(runtime).not.toMatch(/COPY .*(tests|scripts)/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist\/bin \.\/dist\/bin/);
    expect(runtime).toMatch(/org\.opencontainers\.image\.title=/);
    // The health check's own code, run with a RELAY_LISTEN on another port, asks that port.
    const check = /CMD node -e "(.+)"$/m.exec(runtime)?.[1] ?? "";
    const server = createServer((_, res) => res.end("{}"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const run = (listen: string) =>
      new Promise<number | null>((resolve) => {
        spawn(process.execPath, ["-e", check], { env: { ...process.env, RELAY_LISTEN: listen } }).on(
          "close",
          resolve,
        );
      });
    expect(await run(`0.0.0.0:${port}`)).toBe(0);
    server.close();
    expect(await run(`0.0.0.0:${port}`)).toBe(1);
  });

  it("the compose file runs the image beside sub2api with a volume and loopback port", () => {
    const compose = parse(readFileSync(join(root, "deploy", "docker-compose.yml"), "utf8"));
    const relay = compose.services.relay;
    expect(relay.volumes).toContain("relay-data:/data");
    expect(relay.ports).toEqual(["127.0.0.1:8080:8080"]);
    expect(relay.env_file).toBe("../.env");
  });
});

describe("replicated deployment (PostgreSQL)", () => {
  it("compose: two relay replicas on PostgreSQL, started once the database is healthy", () => {
    const compose = parse(readFileSync(join(root, "deploy", "docker-compose.postgres.yml"), "utf8"));
    const relay = compose.services.relay;
    expect(relay.deploy.replicas).toBe(2);
    expect(relay.environment.RELAY_DATABASE_URL).toMatch(
      /^postgres:\/\/relay:\$\{POSTGRES_PASSWORD\}@postgres:5432\/relay$/,
    );
    expect(relay.environment.RELAY_DB_PATH).toBeUndefined();
    expect(relay.depends_on.postgres.condition).toBe("service_healthy");
    expect(compose.services.postgres.healthcheck.test.join(" ")).toMatch(/pg_isready/);
    expect(compose.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/:\?/); // required, no default
    for (const p of relay.ports) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it("kubernetes: a Deployment of two replicas with probes on /readyz and /healthz, secrets from a Secret", () => {
    const docs = parseAllDocuments(
      readFileSync(join(root, "deploy", "kubernetes", "relay.yaml"), "utf8"),
    ).map((d) => d.toJS());
    const byKind = Object.fromEntries(docs.map((d) => [d.kind, d]));
    const secret = byKind.Secret;
    expect(Object.keys(secret.stringData).sort()).toEqual([
      "RELAY_API_TOKEN",
      "RELAY_DATABASE_URL",
      "RELAY_MASTER_KEY",
    ]);
    const deployment = byKind.Deployment;
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.envFrom[0].secretRef.name).toBe(secret.metadata.name);
    expect(container.env).toContainEqual({ name: "RELAY_LISTEN", value: "0.0.0.0:8080" });
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const service = byKind.Service;
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
  });
});

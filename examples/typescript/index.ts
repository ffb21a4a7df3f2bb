// airlock from TypeScript: one image policy for an application's images and a vcluster tenant.
// Property names are the stack settings' (Pulumi.<stack>.yaml), camelCase; the component
// package validates them exactly like a stack file and reports problems per property.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as airlock from "@pulumi/airlock";
import * as YAML from "yaml";

const config = new pulumi.Config();

// The digests `airlock images lock` wrote (source reference -> digest), when the file exists.
const lockFile = "images.lock";
const lock = fs.existsSync(lockFile)
    ? Object.fromEntries(
          Object.entries(YAML.parse(fs.readFileSync(lockFile, "utf8")).images).map(
              ([source, entry]) => [source, entry.digest],
          ),
      )
    : {};

// Shared by every airlock component of this program: the same policy reaches each consumer.
const images = {
    policy: {
        registry: { to: "registry.example.com", layout: "nest" },
        pin: "preferred",
        pullPolicy: "IfNotPresent",
    },
    lock: lock,
    registryCredentials: {
        "registry.example.com": { username: "robot", password: config.requireSecret("robotPassword") },
    },
};

const apps = new k8s.core.v1.Namespace("apps", { metadata: { name: "apps" } });
const appImages = new airlock.ImageConfig(
    "app-images",
    {
        images: images,
        workloadImages: {
            "apps/web": { image: "nginx:1.27", namespace: "apps" },
        },
    },
    { dependsOn: [apps] },
);

const tenantNamespace = new k8s.core.v1.Namespace("vcluster-team-a", {
    metadata: { name: "vcluster-team-a" },
});
const teamA = new airlock.VirtualCluster(
    "team-a",
    {
        images: images,
        tenant: { name: "team-a", backingStore: "database" },
    },
    { dependsOn: [tenantNamespace] },
);

export const webImage = appImages.imageMap.apply((map) => map["apps/web"]["apps"]);
export const pullSecrets = appImages.pullSecrets;
export const backgroundProxyImage = teamA.backgroundProxyImage;
export const teamAKubeconfig = teamA.kubeconfig;

/**
 * @module build
 * The image builder as the other stages see it (the quickstart): what the recipes serve, which
 * names a build tags, and what podman holds. The CLI drives the builder itself (./builder.ts).
 */
export { type BuildOptions, type BuildSummary, catalogueNames, runImageBuild } from './builder.js';
export type { ImageResult, ImageStatus } from './image-result.js';
export { servedNames, tagNames } from './plan.js';
export { imagesNamed } from './podman.js';
export { ancestors, loadRecipes, type Recipe, type Recipes } from './recipes.js';

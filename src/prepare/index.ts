/**
 * @module images
 * `container image prepare` as the other stages see it: the image catalogue (which the image
 * builder reads to know the names it serves) and the prepare run itself.
 */
export {
  type Catalogue,
  type CatalogueEntry,
  defaultCataloguePath,
  loadCatalogue,
  shortName,
} from './catalogue.js';
export { type PrepareOptions, type PrepareResult, runPrepare } from './prepare-run.js';

// The API group of Vigil's resources, apart from the zod schema so that a program that only names the
// group (the sync sidecar's Events) does not load zod.
export const API_GROUP = 'vigil.dev';

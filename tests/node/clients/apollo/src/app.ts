// What the docs' Apollo snippets call in the app around them (docs/frontends.md).
export declare function signOut(): void;
export declare function retryLater(): void;
export declare function showOutage(): void;
